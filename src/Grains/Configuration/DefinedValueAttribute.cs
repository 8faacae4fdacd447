using System.ComponentModel.DataAnnotations;

namespace Gatehouse.Configuration;

/// <summary>
/// An enum setting must hold one of its named values, as in <c>Gatehouse:Apps:a:Priority must be one of Low, Normal, High; it is 7.</c>
/// </summary>
/// <remarks>The configuration check refuses any other name before binding; this catches a number set in code.</remarks>
public sealed class DefinedValueAttribute : ValidationAttribute
{
    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext) =>
        value is not Enum || Enum.IsDefined(value.GetType(), value)
            ? ValidationResult.Success
            : new ValidationResult(
                $"{SettingKeys.FromDisplayName(validationContext.DisplayName)} must be {AllowedValues.Describe(null, value.GetType())}; it is {AllowedValues.Format(value)}.");
}
