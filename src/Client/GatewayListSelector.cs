using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Messaging;
using Orleans.Runtime;

namespace Gatehouse.Client;

/// <summary>
/// Registers Orleans' static and ADO.NET gateway list providers side by side and hands Orleans the one
/// <see cref="GatehouseClientOptions.Cluster"/> names when the client starts.
/// </summary>
/// <remarks>
/// The options are bound from configuration or set by later <c>Configure</c> calls, so the kind is not known when the
/// services are registered. Each <c>Use…Clustering</c> call's registrations are captured, its own configuration
/// validator dropped (the Gatehouse validator checks what the chosen kind needs), and its provider type kept.
/// </remarks>
internal static class GatewayListSelector
{
    public static void Register(IClientBuilder client, Action<IClientBuilder> useStatic, Action<IClientBuilder> useAdoNet)
    {
        var staticProvider = Capture(client, useStatic);
        var adoNetProvider = Capture(client, useAdoNet);
        client.Services.AddSingleton<IGatewayListProvider>(services =>
        {
            var kind = services.GetRequiredService<IOptions<GatehouseClientOptions>>().Value.Cluster;
            return (IGatewayListProvider)ActivatorUtilities.CreateInstance(services, kind == GatehouseClusterKind.AdoNet ? adoNetProvider : staticProvider);
        });
    }

    private static Type Capture(IClientBuilder client, Action<IClientBuilder> use)
    {
        var before = client.Services.ToHashSet();
        use(client);
        var added = client.Services.Where(d => !before.Contains(d)).ToList();
        Type? provider = null;
        foreach (var descriptor in added)
        {
            if (descriptor.ServiceType == typeof(IGatewayListProvider))
            {
                provider = descriptor.ImplementationType;
                client.Services.Remove(descriptor);
            }
            else if (descriptor.ServiceType == typeof(IConfigurationValidator))
            {
                client.Services.Remove(descriptor);
            }
        }

        return provider ?? throw new InvalidOperationException("The Orleans clustering extension registered no gateway list provider type.");
    }
}
