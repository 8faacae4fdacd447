using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace Gatehouse.Configuration;

/// <summary>
/// What a value setting accepts, from its type and its <see cref="RangeAttribute"/>: the words used in messages and the
/// test a bound value must pass. Every floating-point setting must be finite, with or without a range.
/// </summary>
/// <remarks>A range's <see cref="ValidationAttribute.ErrorMessage"/>, when set, is the reason for the bound, shown in brackets.</remarks>
internal static class AllowedValues
{
    /// <summary>For example "a whole number between 1 and 65535", "true or false" or "one of High, Normal, Low".</summary>
    public static string Describe(RangeAttribute? range, Type type)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (underlying.IsEnum)
        {
            return $"one of {string.Join(", ", Enum.GetNames(underlying))}";
        }

        if (underlying == typeof(bool))
        {
            return "true or false";
        }

        var kind = IsFloatingPoint(underlying) ? "a number" : "a whole number";
        return range is null ? kind : $"{kind} {RangeText(range)}";
    }

    /// <summary>For example "between 1 and 65535" or "greater than 0 and at most 600", with the reason when there is one.</summary>
    public static string RangeText(RangeAttribute range)
    {
        var text = (range.MinimumIsExclusive, range.MaximumIsExclusive) switch
        {
            (false, false) => $"between {Format(range.Minimum)} and {Format(range.Maximum)}",
            (true, false) => $"greater than {Format(range.Minimum)} and at most {Format(range.Maximum)}",
            (false, true) => $"at least {Format(range.Minimum)} and less than {Format(range.Maximum)}",
            (true, true) => $"greater than {Format(range.Minimum)} and less than {Format(range.Maximum)}",
        };
        return range.ErrorMessage is { Length: > 0 } reason ? $"{text} ({reason})" : text;
    }

    /// <summary>Whether a bound number is finite and within the setting's range (if it has one).</summary>
    public static bool IsAllowed(RangeAttribute? range, object number)
    {
        var value = Convert.ToDouble(number, CultureInfo.InvariantCulture);
        if (!double.IsFinite(value))
        {
            return false;
        }

        if (range is null)
        {
            return true;
        }

        var min = Convert.ToDouble(range.Minimum, CultureInfo.InvariantCulture);
        var max = Convert.ToDouble(range.Maximum, CultureInfo.InvariantCulture);
        return (range.MinimumIsExclusive ? value > min : value >= min) && (range.MaximumIsExclusive ? value < max : value <= max);
    }

    public static bool IsFloatingPoint(Type type) => type == typeof(double) || type == typeof(float) || type == typeof(decimal);

    public static string Format(object value) => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
}
