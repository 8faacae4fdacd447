using System.Runtime.CompilerServices;
using Gatehouse.Grains;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace Gatehouse.Client;

/// <summary>An <see cref="IChatClient"/> that sends chat requests to a Gatehouse cluster through its gateway grain.</summary>
/// <remarks>
/// <para>
/// Thread-safe; register it as a singleton (<c>AddGatehouseClient</c> does). It owns nothing: the Orleans
/// <see cref="IClusterClient"/> belongs to the host, so <see cref="Dispose"/> does nothing.
/// </para>
/// <para>
/// The model is <see cref="ChatOptions.ModelId"/>, else <see cref="GatehouseClientOptions.DefaultModel"/>; it is a
/// Gatehouse model alias, and the response's <see cref="ChatResponse.ModelId"/> is the upstream model that answered.
/// Which provider answered, how many attempts it took and the cache outcome are in
/// <see cref="ChatResponse.AdditionalProperties"/> under <c>gatehouse.provider</c>, <c>gatehouse.attempts</c> and
/// <c>gatehouse.cache</c> (on the first streamed update when streaming).
/// </para>
/// <para>
/// Errors: a <see cref="Gatehouse.Errors.GatewayException"/> raised by the cluster (unknown key, model not allowed,
/// rate limited with <see cref="Gatehouse.Errors.GatewayException.RetryAfter"/>, every upstream failed, ...) propagates
/// to the caller unchanged; so does one raised here when no model is given. Content the gateway cannot carry
/// (non-image media, hosted tools) fails with <see cref="NotSupportedException"/> before anything is sent.
/// Cancelling <c>cancellationToken</c> cancels the grain call and, for a stream, the upstream stream.
/// </para>
/// </remarks>
public sealed class GatehouseChatClient : IChatClient
{
    private readonly IClusterClient _clusterClient;
    private readonly string _appKey;
    private readonly string? _defaultModel;
    private readonly ChatClientMetadata _metadata;
    private readonly LostSiloRetry _retry;

    /// <summary>Initializes a new instance of the <see cref="GatehouseChatClient"/> class.</summary>
    /// <param name="clusterClient">The Orleans client connected to the Gatehouse cluster.</param>
    /// <param name="options">The client options: the app key, default model and retries.</param>
    /// <param name="timeProvider">The clock the waits between retries run on; the system clock when omitted.</param>
    public GatehouseChatClient(IClusterClient clusterClient, IOptions<GatehouseClientOptions> options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(clusterClient);
        ArgumentNullException.ThrowIfNull(options);

        _clusterClient = clusterClient;
        _appKey = options.Value.AppKey;
        _defaultModel = options.Value.DefaultModel;
        _metadata = new ChatClientMetadata(GatehouseClientConstants.ProviderName, providerUri: null, defaultModelId: _defaultModel);
        _retry = new LostSiloRetry(options.Value.MaxRetries, timeProvider ?? TimeProvider.System);
    }

    /// <inheritdoc />
    public async Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var request = ChatMapping.ToGatehouseRequest(messages, options, _defaultModel, stream: false);
        var response = await _retry.ExecuteAsync(
            async ct => await Gateway.CompleteAsync(_appKey, request, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        return ChatMapping.FromGatehouseResponse(response);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var request = ChatMapping.ToGatehouseRequest(messages, options, _defaultModel, stream: true);
        var mapper = new ChatStreamMapper();

        // A stream is retried only until its first chunk: after that the caller has seen part of an answer.
        var (chunks, hasChunk) = await _retry.ExecuteAsync(
            async ct =>
            {
                var opened = Gateway.StreamAsync(_appKey, request, ct).WithCancellation(ct).ConfigureAwait(false).GetAsyncEnumerator();
                try
                {
                    return (opened, await opened.MoveNextAsync());
                }
                catch
                {
                    await opened.DisposeAsync();
                    throw;
                }
            },
            cancellationToken).ConfigureAwait(false);
        try
        {
            while (hasChunk)
            {
                if (mapper.Map(chunks.Current) is { } update)
                {
                    yield return update;
                }

                hasChunk = await MoveNextAsync(chunks);
            }
        }
        finally
        {
            await chunks.DisposeAsync();
        }

        if (mapper.Complete() is { } last)
        {
            yield return last;
        }
    }

    private static async ValueTask<bool> MoveNextAsync(ConfiguredCancelableAsyncEnumerable<Gatehouse.Chat.ChatChunk>.Enumerator chunks)
    {
        try
        {
            return await chunks.MoveNextAsync();
        }
        catch (Exception ex) when (LostSiloError.Matches(ex))
        {
            throw LostSiloError.From(ex);
        }
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);

        if (serviceKey is not null)
        {
            return null;
        }

        if (serviceType == typeof(ChatClientMetadata))
        {
            return _metadata;
        }

        if (serviceType == typeof(IClusterClient))
        {
            return _clusterClient;
        }

        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        // The cluster client belongs to the host's service provider, which disposes it.
    }

    // Stateless worker grain: the reference is cheap, and a random key of several per call spreads the client's calls
    // over the gateway silos (Orleans' client sends every call for one grain id through one gateway).
    private IGatewayGrain Gateway => _clusterClient.GetGrain<IGatewayGrain>(Random.Shared.Next(GrainKeys.GatewayKeysForClients));
}
