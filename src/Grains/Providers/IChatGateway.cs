using Gatehouse.Chat;

namespace Gatehouse.Providers;

/// <summary>One upstream, behind Gatehouse's canonical model: the only interface the router talks to.</summary>
/// <remarks>
/// Shaped like <c>Microsoft.Extensions.AI.IChatClient</c>. The request's <see cref="ChatRequest.Model"/> is the
/// upstream model name. Implementations are thread-safe, enforce their provider's timeout, and report every
/// failure as a <see cref="Errors.GatewayException"/> classified by <see cref="Errors.GatewayError"/>
/// (caller cancellation is left as <see cref="OperationCanceledException"/>).
/// </remarks>
public interface IChatGateway
{
    Task<ChatResponse> GetResponseAsync(ChatRequest request, CancellationToken cancellationToken = default);

    IAsyncEnumerable<ChatChunk> GetStreamingResponseAsync(ChatRequest request, CancellationToken cancellationToken = default);

    /// <summary>Returns a service the gateway or one it wraps provides, or null.</summary>
    object? GetService(Type serviceType, object? serviceKey = null);
}

/// <summary>Base class of the decorators that wrap an <see cref="IChatGateway"/>; forwards everything by default.</summary>
public abstract class DelegatingChatGateway(IChatGateway innerGateway) : IChatGateway
{
    protected IChatGateway InnerGateway { get; } = innerGateway;

    public virtual Task<ChatResponse> GetResponseAsync(ChatRequest request, CancellationToken cancellationToken = default) =>
        InnerGateway.GetResponseAsync(request, cancellationToken);

    public virtual IAsyncEnumerable<ChatChunk> GetStreamingResponseAsync(ChatRequest request, CancellationToken cancellationToken = default) =>
        InnerGateway.GetStreamingResponseAsync(request, cancellationToken);

    public virtual object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType.IsInstanceOfType(this) ? this : InnerGateway.GetService(serviceType, serviceKey);
}

/// <summary>Creates the adapter for one configured provider of a given <see cref="Kind"/>.</summary>
/// <remarks>Register implementations as singletons; the <c>ProviderRegistry</c> picks one by the provider's <c>Kind</c>.</remarks>
public interface IChatGatewayFactory
{
    /// <summary>The provider kind this factory serves, as written in config (e.g. <c>OpenAI</c>); compared case-insensitively.</summary>
    string Kind { get; }

    /// <summary>Whether the adapters it creates serve embeddings (<see cref="IEmbeddingGateway"/>), so an <c>Embeddings</c> alias may target the kind.</summary>
    bool ServesEmbeddings => false;

    IChatGateway Create(string providerName, ProviderOptions options);

    /// <summary>
    /// Creates the adapter with the redactor for its upstream's text, which knows the key of every configured provider
    /// (an upstream may quote any header it was sent, and a misrouted key is still a key).
    /// </summary>
    /// <remarks>The default ignores the redactor, for factories whose adapters pass no upstream text on.</remarks>
    IChatGateway Create(string providerName, ProviderOptions options, UpstreamRedactor redactor) => Create(providerName, options);
}
