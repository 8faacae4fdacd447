using Gatehouse.Errors;
using Gatehouse.Grains;
using Gatehouse.Health;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Routing;

/// <summary>
/// The recovery-probe protocol with each provider's grain: when a target's break is over, one request in the cluster
/// at a time holds the probe permit and calls it; its outcome closes the circuit or opens it again.
/// </summary>
/// <remarks>
/// Thread-safe. Only one request per silo asks for the permit at a time (<see cref="UpstreamState.TryBeginProbe"/>);
/// the others skip the target meanwhile. An unreachable provider grain leaves the target open rather than flood a
/// recovering upstream.
/// </remarks>
/// <param name="providerGrain">The grain of a provider, by name.</param>
/// <param name="siloId">The id this silo holds permits under.</param>
/// <param name="logger">The log of probe outcomes.</param>
internal sealed partial class CircuitProbe(Func<string, IProviderGrain> providerGrain, string siloId, ILogger logger)
{
    /// <summary>Asks the provider grain for the probe permit; null when another request of this silo is asking, or the grain could not be reached.</summary>
    public async Task<ProbePermit?> AcquireAsync(RouteTarget target)
    {
        if (!target.State.TryBeginProbe())
        {
            return null;
        }

        try
        {
            var permit = await providerGrain(target.Provider).TryAcquireProbeAsync(siloId);
            target.State.Apply(permit);
            return permit;
        }
        catch (Exception ex) when (ex is not GatewayException)
        {
            // The authority is unreachable: treat the target as still open rather than flood a recovering upstream.
            LogProbeRequestFailed(target.Provider, ex.GetType().Name);
            return null;
        }
        finally
        {
            target.State.EndProbe();
        }
    }

    /// <summary>Reports the probe's outcome to the provider grain, and applies the circuit state it answers with.</summary>
    public async Task ReportAsync(RouteTarget target, bool succeeded)
    {
        try
        {
            var status = await providerGrain(target.Provider).ReportProbeResultAsync(siloId, succeeded);
            target.State.Apply(status);
            LogProbeResult(target.Provider, succeeded, status.Circuit);
        }
        catch (Exception ex) when (ex is not GatewayException)
        {
            // The permit lease lapses on its own; the next report carries the outcome's counts.
            LogProbeRequestFailed(target.Provider, ex.GetType().Name);
        }
    }

    /// <summary>Hands the permit back without a verdict (the caller went away), rather than leave the circuit waiting for the lease to lapse.</summary>
    public void Release(RouteTarget target)
    {
        // The caller has gone, so its token cannot be used; this is a one-way courtesy to the authority, not awaited.
        var release = providerGrain(target.Provider).ReleaseProbeAsync(siloId);
        if (!release.IsCompletedSuccessfully)
        {
            _ = ObserveAsync(release, target.Provider);
        }
    }

    private async Task ObserveAsync(ValueTask call, string provider)
    {
        try
        {
            await call;
        }
        catch (Exception ex)
        {
            LogProbeRequestFailed(provider, ex.GetType().Name);
        }
    }

    [LoggerMessage(EventId = GatehouseEventIds.ProbeResult, Level = LogLevel.Information, Message = "Provider {Provider}: recovery probe succeeded={Succeeded}; circuit is {Circuit}")]
    private partial void LogProbeResult(string provider, bool succeeded, CircuitState circuit);

    [LoggerMessage(EventId = GatehouseEventIds.ProbeRequestFailed, Level = LogLevel.Debug, Message = "Provider {Provider}: could not reach the provider grain for the probe ({Error})")]
    private partial void LogProbeRequestFailed(string provider, string error);
}
