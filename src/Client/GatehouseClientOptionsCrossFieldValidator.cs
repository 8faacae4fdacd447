using Microsoft.Extensions.Options;

namespace Gatehouse.Client;

/// <summary>Checks the rules that span several options, reporting every failure at once.</summary>
internal sealed class GatehouseClientOptionsCrossFieldValidator : IValidateOptions<GatehouseClientOptions>
{
    public ValidateOptionsResult Validate(string? name, GatehouseClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();

        if (string.IsNullOrWhiteSpace(options.AppKey))
        {
            failures.Add($"{nameof(GatehouseClientOptions.AppKey)} is required: the key of the application calling the gateway.");
        }

        if (!Enum.IsDefined(options.Cluster))
        {
            failures.Add($"{nameof(GatehouseClientOptions.Cluster)} '{options.Cluster}' is not one of {string.Join(", ", Enum.GetNames<GatehouseClusterKind>())}.");
        }

        if (options.Cluster == GatehouseClusterKind.StaticGateways)
        {
            if (options.Gateways is not { Count: > 0 })
            {
                failures.Add($"{nameof(GatehouseClientOptions.Gateways)} must list at least one host:port endpoint when {nameof(GatehouseClientOptions.Cluster)} is {nameof(GatehouseClusterKind.StaticGateways)}.");
            }
            else
            {
                foreach (var gateway in options.Gateways)
                {
                    if (!GatewayEndpoints.TryParse(gateway, out _, out _))
                    {
                        failures.Add($"{nameof(GatehouseClientOptions.Gateways)} entry '{gateway}' is not host:port with a port in 1..65535.");
                    }
                }
            }
        }

        if (options.Cluster == GatehouseClusterKind.AdoNet && string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            failures.Add($"{nameof(GatehouseClientOptions.ConnectionString)} is required when {nameof(GatehouseClientOptions.Cluster)} is {nameof(GatehouseClusterKind.AdoNet)}: the silos' membership database.");
        }

        if (options.GatewayListRefreshPeriod <= TimeSpan.Zero || options.GatewayListRefreshPeriod > TimeSpan.FromHours(1))
        {
            failures.Add($"{nameof(GatehouseClientOptions.GatewayListRefreshPeriod)} must be more than 0 and at most 1 hour; it is {options.GatewayListRefreshPeriod}.");
        }

        if (options.CallTimeout < TimeSpan.FromSeconds(1) || options.CallTimeout > TimeSpan.FromHours(1))
        {
            failures.Add($"{nameof(GatehouseClientOptions.CallTimeout)} must be at least 1 second and at most 1 hour; it is {options.CallTimeout}.");
        }

        if (string.IsNullOrWhiteSpace(options.ClusterId))
        {
            failures.Add($"{nameof(GatehouseClientOptions.ClusterId)} must not be empty.");
        }

        if (string.IsNullOrWhiteSpace(options.ServiceId))
        {
            failures.Add($"{nameof(GatehouseClientOptions.ServiceId)} must not be empty.");
        }

        if (options.DefaultModel is { } model && string.IsNullOrWhiteSpace(model))
        {
            failures.Add($"{nameof(GatehouseClientOptions.DefaultModel)} must be null or a model alias, not blank.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
