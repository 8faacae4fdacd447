using Microsoft.Extensions.Options;

namespace Gatehouse.RateLimiting;

/// <summary>Checks the data annotations of the quota settings a provider or an app entry inherits (generated, reflection-free).</summary>
[OptionsValidator]
internal sealed partial class QuotaOptionsValidator : IValidateOptions<QuotaOptions>;
