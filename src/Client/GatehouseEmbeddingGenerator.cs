using Gatehouse.Embeddings;
using Gatehouse.Errors;
using Gatehouse.Grains;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace Gatehouse.Client;

/// <summary>An <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> that embeds texts through a Gatehouse cluster's gateway grain.</summary>
/// <remarks>
/// <para>
/// Thread-safe; registered as a singleton by <c>AddGatehouseClient</c> beside the <see cref="IChatClient"/>, and owning
/// nothing (disposing it does nothing). The model is <see cref="EmbeddingGenerationOptions.ModelId"/>, else
/// <see cref="GatehouseClientOptions.DefaultEmbeddingModel"/>: a Gatehouse alias of type <c>Embeddings</c>. Each
/// <see cref="Embedding{T}.ModelId"/> is the upstream model that computed it; which provider answered and the cache
/// outcome are in <see cref="GeneratedEmbeddings{TEmbedding}.AdditionalProperties"/> under <c>gatehouse.provider</c>
/// and <c>gatehouse.cache</c>; <see cref="GeneratedEmbeddings{TEmbedding}.Usage"/> is what the upstream billed for
/// this call (none for inputs the cache answered).
/// </para>
/// <para>Errors and retries are the chat client's: a <see cref="GatewayException"/>; a silo that went away is retried (<c>MaxRetries</c>).</para>
/// </remarks>
public sealed class GatehouseEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    private readonly IClusterClient _clusterClient;
    private readonly string _appKey;
    private readonly string? _defaultModel;
    private readonly EmbeddingGeneratorMetadata _metadata;
    private readonly LostSiloRetry _retry;

    /// <summary>Initializes a new instance of the <see cref="GatehouseEmbeddingGenerator"/> class.</summary>
    /// <param name="clusterClient">The Orleans client connected to the Gatehouse cluster.</param>
    /// <param name="options">The client options: the app key, default embeddings model and retries.</param>
    /// <param name="timeProvider">The clock the waits between retries run on; the system clock when omitted.</param>
    public GatehouseEmbeddingGenerator(IClusterClient clusterClient, IOptions<GatehouseClientOptions> options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(clusterClient);
        ArgumentNullException.ThrowIfNull(options);

        _clusterClient = clusterClient;
        _appKey = options.Value.AppKey;
        _defaultModel = options.Value.DefaultEmbeddingModel;
        _metadata = new EmbeddingGeneratorMetadata(GatehouseClientConstants.ProviderName, providerUri: null, defaultModelId: _defaultModel);
        _retry = new LostSiloRetry(options.Value.MaxRetries, timeProvider ?? TimeProvider.System);
    }

    /// <inheritdoc />
    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);

        var model = options?.ModelId ?? _defaultModel
            ?? throw new GatewayException(GatewayError.InvalidRequest, "No model: set EmbeddingGenerationOptions.ModelId or GatehouseClientOptions.DefaultEmbeddingModel.", "model");
        var request = new EmbeddingRequest { Model = model, Inputs = [.. values], Dimensions = options?.Dimensions };
        if (request.Inputs.IsEmpty)
        {
            return [];
        }

        // A random key of several per try spreads the calls over the gateway silos (see GrainKeys.GatewayKeysForClients).
        var response = await _retry.ExecuteAsync(
            async ct => await _clusterClient.GetGrain<IGatewayGrain>(Random.Shared.Next(GrainKeys.GatewayKeysForClients))
                .EmbedAsync(_appKey, request, ct).ConfigureAwait(false),
            cancellationToken).ConfigureAwait(false);

        var created = DateTimeOffset.UtcNow;
        var embeddings = new GeneratedEmbeddings<Embedding<float>>(response.Vectors.Select(v => new Embedding<float>(v) { ModelId = response.Model, CreatedAt = created }))
        {
            Usage = new UsageDetails { InputTokenCount = response.Usage?.PromptTokens ?? 0, TotalTokenCount = response.Usage?.PromptTokens ?? 0 },
        };
        if (response.Route is { } route)
        {
            embeddings.AdditionalProperties = new AdditionalPropertiesDictionary
            {
                [GatehouseClientConstants.ProviderPropertyName] = route.Provider,
                [GatehouseClientConstants.CachePropertyName] = route.Cache,
            };
        }

        return embeddings;
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);

        if (serviceKey is not null)
        {
            return null;
        }

        if (serviceType == typeof(EmbeddingGeneratorMetadata))
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
}
