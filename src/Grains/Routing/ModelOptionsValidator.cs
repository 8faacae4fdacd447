using Microsoft.Extensions.Options;

namespace Gatehouse.Routing;

/// <summary>Checks the data annotations of one <c>Models:&lt;alias&gt;</c> entry, its targets and pricing (generated, reflection-free).</summary>
[OptionsValidator]
internal sealed partial class ModelOptionsValidator : IValidateOptions<ModelOptions>;
