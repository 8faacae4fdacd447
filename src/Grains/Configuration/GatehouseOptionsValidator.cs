using Microsoft.Extensions.Options;

namespace Gatehouse.Configuration;

/// <summary>
/// Checks the data annotations of the root settings and its fixed sections (generated, reflection-free); the named
/// providers, aliases and apps are checked entry by entry by <see cref="GatehouseOptionsCrossFieldValidator"/>.
/// </summary>
[OptionsValidator]
internal sealed partial class GatehouseOptionsValidator : IValidateOptions<GatehouseOptions>;
