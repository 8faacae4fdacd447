using Microsoft.Extensions.Options;

namespace Gatehouse.Client;

/// <summary>Checks the data annotations of <see cref="GatehouseClientOptions"/> (generated, reflection-free).</summary>
[OptionsValidator]
internal sealed partial class GatehouseClientOptionsValidator : IValidateOptions<GatehouseClientOptions>;
