using Microsoft.Extensions.Options;

namespace Gatehouse.Providers;

/// <summary>Checks the data annotations of one <c>Providers:&lt;name&gt;</c> entry (generated, reflection-free).</summary>
[OptionsValidator]
internal sealed partial class ProviderOptionsValidator : IValidateOptions<ProviderOptions>;
