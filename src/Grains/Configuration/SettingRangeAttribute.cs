using System.ComponentModel.DataAnnotations;

namespace Gatehouse.Configuration;

/// <summary>
/// A <see cref="RangeAttribute"/> whose failure names the setting by its configuration key and shows its value, as in
/// <c>Gatehouse:Cluster:SiloPort must be a whole number between 1 and 65535; it is 70000.</c>
/// </summary>
/// <remarks>
/// The value is compared as a <see cref="double"/>, so a <see cref="long"/> setting far beyond the bounds is refused rather
/// than overflowing the conversion, and a floating-point setting must also be finite. <see cref="ValidationAttribute.ErrorMessage"/>,
/// when set, is the reason for the bound, shown in brackets (see <see cref="AllowedValues.RangeText"/>).
/// </remarks>
public sealed class SettingRangeAttribute : RangeAttribute
{
    public SettingRangeAttribute(int minimum, int maximum)
        : base(minimum, maximum)
    {
    }

    public SettingRangeAttribute(double minimum, double maximum)
        : base(minimum, maximum)
    {
    }

    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext) =>
        value is null || AllowedValues.IsAllowed(this, value)
            ? ValidationResult.Success
            : new ValidationResult(
                $"{SettingKeys.FromDisplayName(validationContext.DisplayName)} must be {AllowedValues.Describe(this, value.GetType())}; it is {AllowedValues.Format(value)}.");
}
