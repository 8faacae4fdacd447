using Gatehouse.Chat;

namespace Gatehouse.Grains;

/// <summary>Routes requests for one model alias to its targets and fallbacks (key: the alias, see <see cref="GrainKeys"/>).</summary>
/// <remarks>
/// A stateless worker: every silo has its own activations, so routing never funnels the cluster's
/// traffic through one activation. Callers must have authenticated and authorized the app already.
/// Failures surface as <see cref="Errors.GatewayException"/>.
/// </remarks>
[Alias("gatehouse.IRouterGrain")]
public interface IRouterGrain : IGrainWithStringKey
{
    [Alias("Complete")]
    Task<ChatResponse> CompleteAsync(RoutedCall call, CancellationToken cancellationToken = default);

    /// <summary>Streams the answer; fails over only before the first chunk is yielded.</summary>
    [Alias("Stream")]
    IAsyncEnumerable<ChatChunk> StreamAsync(RoutedCall call, CancellationToken cancellationToken = default);
}

/// <summary>A request on its way through the gateway, with who asked for it.</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.RoutedCall")]
public sealed record RoutedCall
{
    /// <summary>The application (tenant) that made the call.</summary>
    [Id(0)] public required string AppId { get; init; }
    [Id(1)] public required ChatRequest Request { get; init; }
}
