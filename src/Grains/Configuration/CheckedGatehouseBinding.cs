using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Gatehouse.Configuration;

/// <summary>
/// Binds <see cref="GatehouseOptions"/> from the <c>Gatehouse</c> section after <see cref="ConfigurationSchemaChecker"/>
/// has looked at it, and reports what the check found as validation failures, so they are printed with the range and
/// cross-reference failures of <see cref="GatehouseOptionsCrossFieldValidator"/> in one list.
/// </summary>
/// <remarks>
/// A value that failed the check is left out of the binding (the setting keeps its default) rather than handed to the
/// binder, which would throw a stack trace or drop the whole provider, alias or app holding it; so every other problem
/// is still found, and nothing is reported twice or as a made-up consequence (such as "not a configured provider").
/// The check is a pure function of the configuration, repeated whenever the options are built (at start, and again
/// after a reload), so what is validated is always what was bound.
/// </remarks>
internal sealed class CheckedGatehouseBinding : IConfigureOptions<GatehouseOptions>, IValidateOptions<GatehouseOptions>
{
    /// <summary>
    /// <c>Gatehouse:Client</c> is the section of the .NET client package (<c>AddGatehouseClient</c>), which a host running
    /// both may share; it is not the silo's to check.
    /// </summary>
    private static readonly IReadOnlySet<string> ForeignKeys = new HashSet<string>(["Client"], StringComparer.OrdinalIgnoreCase);

    private readonly IConfigurationSection _section;

    public CheckedGatehouseBinding(IConfigurationSection section) => _section = section;

    public void Configure(GatehouseOptions options) => Bindable(Check()).Bind(options);

    public ValidateOptionsResult Validate(string? name, GatehouseOptions options) =>
        Check() is { Errors.Count: > 0 } check ? ValidateOptionsResult.Fail(check.Errors) : ValidateOptionsResult.Success;

    private ConfigurationCheck Check() => ConfigurationSchemaChecker.Check(_section, typeof(GatehouseOptions), ForeignKeys);

    /// <summary>The section without the rejected keys (and whatever is below them).</summary>
    private IConfiguration Bindable(ConfigurationCheck check)
    {
        if (check.RejectedPaths.Count == 0)
        {
            return _section;
        }

        var prefix = _section.Path + ConfigurationPath.KeyDelimiter;
        var rejected = check.RejectedPaths.Select(p => p[prefix.Length..]).ToList();
        var kept = _section.AsEnumerable(makePathsRelative: true)
            .Where(pair => !rejected.Any(r => pair.Key.Equals(r, StringComparison.OrdinalIgnoreCase)
                || pair.Key.StartsWith(r + ConfigurationPath.KeyDelimiter, StringComparison.OrdinalIgnoreCase)));
        return new ConfigurationBuilder().AddInMemoryCollection(kept).Build();
    }
}
