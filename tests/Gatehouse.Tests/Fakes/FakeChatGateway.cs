using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Gatehouse.Chat;
using Gatehouse.Embeddings;
using Gatehouse.Errors;
using Gatehouse.Providers;

namespace Gatehouse.Tests.Fakes;

/// <summary>An in-process upstream whose behaviour tests set through callbacks; counts calls per silo.</summary>
public sealed class FakeChatGateway(string providerName) : IChatGateway, IEmbeddingGateway
{
    private int _calls;
    private int _embedCalls;

    public string ProviderName { get; } = providerName;

    /// <summary>Answers a non-streaming call; the default echoes the last user message.</summary>
    public Func<ChatRequest, CancellationToken, Task<ChatResponse>>? GetResponseAsyncCallback { get; set; }

    /// <summary>Answers a streaming call; the default streams the default reply word by word.</summary>
    public Func<ChatRequest, CancellationToken, IAsyncEnumerable<ChatChunk>>? GetStreamingResponseAsyncCallback { get; set; }

    public int Calls => Volatile.Read(ref _calls);

    /// <summary>Answers an embeddings call; the default gives each input a vector derived from its text.</summary>
    public Func<EmbeddingRequest, CancellationToken, Task<EmbeddingResponse>>? EmbedAsyncCallback { get; set; }

    /// <summary>Embeddings calls made (not counted in <see cref="Calls"/>).</summary>
    public int EmbedCalls => Volatile.Read(ref _embedCalls);

    /// <summary>Every embeddings request received, in order.</summary>
    public ConcurrentQueue<EmbeddingRequest> EmbeddingRequests { get; } = new();

    /// <summary>The tokens the default answer bills per input.</summary>
    public const int TokensPerInput = 4;

    public Task<EmbeddingResponse> EmbedAsync(EmbeddingRequest request, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _embedCalls);
        EmbeddingRequests.Enqueue(request);
        return EmbedAsyncCallback?.Invoke(request, cancellationToken) ?? Task.FromResult(Embed(request));
    }

    /// <summary>The default answer: per input, its length, a checksum of its characters and this provider's name length.</summary>
    public EmbeddingResponse Embed(EmbeddingRequest request) => new()
    {
        Model = request.Model,
        Vectors = [.. request.Inputs.Select(input => new[] { input.Length, input.Sum(c => (float)c) % 997, ProviderName.Length })],
        Usage = new Usage { PromptTokens = TokensPerInput * request.Inputs.Length },
    };

    /// <summary>The silo (by <see cref="FakeChatGatewayFactory.SiloName"/>) that made each call, in order.</summary>
    public ConcurrentQueue<string> CallingSilos { get; } = new();

    public Task<ChatResponse> GetResponseAsync(ChatRequest request, CancellationToken cancellationToken = default) =>
        GetResponseAsync(request, "", cancellationToken);

    public IAsyncEnumerable<ChatChunk> GetStreamingResponseAsync(ChatRequest request, CancellationToken cancellationToken = default) =>
        GetStreamingResponseAsync(request, "", cancellationToken);

    internal Task<ChatResponse> GetResponseAsync(ChatRequest request, string siloName, CancellationToken cancellationToken)
    {
        Record(siloName);
        return GetResponseAsyncCallback?.Invoke(request, cancellationToken) ?? Task.FromResult(Reply(request));
    }

    internal IAsyncEnumerable<ChatChunk> GetStreamingResponseAsync(ChatRequest request, string siloName, CancellationToken cancellationToken)
    {
        Record(siloName);
        return GetStreamingResponseAsyncCallback?.Invoke(request, cancellationToken) ?? StreamReply(request, cancellationToken);
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void FailWith(GatewayError error, int? upstreamStatus = 500)
    {
        GetResponseAsyncCallback = (_, _) => throw new GatewayException(error, $"{ProviderName} failed", upstreamStatus: upstreamStatus);
        GetStreamingResponseAsyncCallback = (_, _) => Throwing(error, upstreamStatus);
        EmbedAsyncCallback = (_, _) => throw new GatewayException(error, $"{ProviderName} failed", upstreamStatus: upstreamStatus);
    }

    public void Reset()
    {
        GetResponseAsyncCallback = null;
        GetStreamingResponseAsyncCallback = null;
        EmbedAsyncCallback = null;
        Interlocked.Exchange(ref _calls, 0);
        Interlocked.Exchange(ref _embedCalls, 0);
        EmbeddingRequests.Clear();
        CallingSilos.Clear();
    }

    public ChatResponse Reply(ChatRequest request) => new()
    {
        Id = "fake-" + ProviderName,
        Model = request.Model,
        Message = ChatMessage.FromText(ChatRole.Assistant, $"{ProviderName} says: {request.Messages[^1].Text}"),
        Usage = new Usage { PromptTokens = 10, CompletionTokens = 3 },
    };

    private async IAsyncEnumerable<ChatChunk> StreamReply(ChatRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var text = Reply(request).Message.Text;
        yield return new ChatChunk { Id = "fake", Model = request.Model, Role = ChatRole.Assistant, TextDelta = "" };
        foreach (var word in text.Split(' '))
        {
            await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
            yield return new ChatChunk { Id = "fake", Model = request.Model, TextDelta = word + " " };
        }

        yield return new ChatChunk { Id = "fake", Model = request.Model, FinishReason = FinishReason.Stop };
        if (request.IncludeUsage)
        {
            yield return new ChatChunk { Id = "fake", Model = request.Model, Usage = new Usage { PromptTokens = 10, CompletionTokens = 3 } };
        }
    }

    private async IAsyncEnumerable<ChatChunk> Throwing(GatewayError error, int? upstreamStatus)
    {
        await Task.Yield();
        throw new GatewayException(error, $"{ProviderName} failed", upstreamStatus: upstreamStatus);
#pragma warning disable CS0162 // An iterator needs a yield to be one.
        yield break;
#pragma warning restore CS0162
    }

    private void Record(string siloName)
    {
        Interlocked.Increment(ref _calls);
        CallingSilos.Enqueue(siloName);
    }
}

/// <summary>
/// Serves providers of kind <see cref="Kind"/> from one shared set of <see cref="FakeChatGateway"/>s, so that a test
/// sees every silo's calls to a provider in one place.
/// </summary>
public sealed class FakeChatGatewayFactory(FakeUpstreams upstreams, string siloName) : IChatGatewayFactory
{
    public const string FakeKind = "Fake";

    public string Kind => FakeKind;

    public bool ServesEmbeddings => true;

    public string SiloName { get; } = siloName;

    public IChatGateway Create(string providerName, ProviderOptions options) => new SiloBoundGateway(upstreams.Get(providerName), SiloName);

    /// <summary>Tells the shared fake which silo is calling.</summary>
    private sealed class SiloBoundGateway(FakeChatGateway inner, string siloName) : DelegatingChatGateway(inner)
    {
        public override Task<ChatResponse> GetResponseAsync(ChatRequest request, CancellationToken cancellationToken = default) =>
            inner.GetResponseAsync(request, siloName, cancellationToken);

        public override IAsyncEnumerable<ChatChunk> GetStreamingResponseAsync(ChatRequest request, CancellationToken cancellationToken = default) =>
            inner.GetStreamingResponseAsync(request, siloName, cancellationToken);
    }
}

/// <summary>The fakes by provider name.</summary>
public sealed class FakeUpstreams
{
    private readonly ConcurrentDictionary<string, FakeChatGateway> _gateways = new(StringComparer.Ordinal);

    public FakeChatGateway Get(string providerName) => _gateways.GetOrAdd(providerName, static name => new FakeChatGateway(name));

    public void ResetAll()
    {
        foreach (var gateway in _gateways.Values)
        {
            gateway.Reset();
        }
    }
}
