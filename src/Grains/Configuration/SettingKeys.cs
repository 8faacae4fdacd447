using Microsoft.Extensions.Configuration;

namespace Gatehouse.Configuration;

/// <summary>
/// Names a setting by its configuration key in the failures of the generated options validators
/// (<see cref="Microsoft.Extensions.Options.OptionsValidatorAttribute"/>).
/// </summary>
/// <remarks>
/// A generated validator names a setting by appending <c>.Property</c> (and <c>[index]</c> for a list item) to the name it
/// is called with. It is called with the section's key and a trailing <c>:</c> (<see cref="ValidatorName"/>), so what
/// follows the last <c>:</c> is the generator's part and every <c>.</c> before it belongs to the key: an alias such as
/// <c>gpt-4.1</c> keeps its dot, since a key segment may hold any character but the delimiter.
/// </remarks>
internal static class SettingKeys
{
    /// <summary>The name to validate the section at <paramref name="sectionKey"/> with.</summary>
    public static string ValidatorName(string sectionKey) => sectionKey + ConfigurationPath.KeyDelimiter;

    /// <summary>The configuration key of the setting a generated validator calls <paramref name="displayName"/>.</summary>
    /// <example><c>Gatehouse:Models:gpt-4.1:.Targets[0].Weight</c> is <c>Gatehouse:Models:gpt-4.1:Targets:0:Weight</c>.</example>
    public static string FromDisplayName(string displayName)
    {
        var delimiter = displayName.LastIndexOf(ConfigurationPath.KeyDelimiter, StringComparison.Ordinal);
        var generated = displayName[(delimiter + 1)..]
            .Replace("[", ".", StringComparison.Ordinal)
            .Replace("]", "", StringComparison.Ordinal)
            .Replace(".", ConfigurationPath.KeyDelimiter, StringComparison.Ordinal);
        return delimiter < 0 ? generated : displayName[..delimiter] + generated;
    }
}
