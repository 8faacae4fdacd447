using Microsoft.Extensions.Options;

namespace Gatehouse.Apps;

/// <summary>Checks the data annotations of one <c>Apps:&lt;id&gt;</c> entry (generated, reflection-free).</summary>
[OptionsValidator]
internal sealed partial class AppOptionsValidator : IValidateOptions<AppOptions>;
