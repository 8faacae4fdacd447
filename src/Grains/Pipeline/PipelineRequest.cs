using Gatehouse.Apps;
using Gatehouse.Grains;
using Gatehouse.RateLimiting.Leases;

namespace Gatehouse.Pipeline;

/// <summary>
/// A caller's request as it passes the stages, whatever its kind: who asked, with which controls, by when, and what it
/// is expected to cost, beside the kind-specific request.
/// </summary>
/// <remarks>Made once per request by the front end's entry point, after the caller was authenticated and authorized; immutable.</remarks>
public sealed class PipelineRequest(AppIdentity app, IModelRequest request, CallOptions options, RequestDeadline deadline, RequestEstimate estimate)
{
    /// <summary>The application (tenant) that asked.</summary>
    public AppIdentity App { get; } = app;

    /// <summary>
    /// The kind-specific request: a <see cref="Chat.ChatRequest"/> (chat, streamed chat, Responses) or an
    /// <see cref="Embeddings.EmbeddingRequest"/>.
    /// </summary>
    public IModelRequest Request { get; } = request;

    /// <summary>The model alias the caller asked for.</summary>
    public string Alias => Request.Model;

    /// <summary>The caller's per-request controls (cache directives, priority, wait).</summary>
    public CallOptions Options { get; } = options;

    /// <summary>The request's one wait budget on this silo, started when it entered the pipeline.</summary>
    public RequestDeadline Deadline { get; } = deadline;

    /// <summary>The tokens the request is expected to bill, counted once for every stage that asks.</summary>
    public RequestEstimate Estimate { get; } = estimate;

    /// <summary>The same request with another kind-specific request for the stages after this one (the estimate is kept).</summary>
    public PipelineRequest With(IModelRequest request) => new(App, request, Options, Deadline, Estimate);

    /// <summary>The call forwarded across the grain hop (to a cache shard or the router), with what is left of the wait budget.</summary>
    public RoutedCall ToRoutedCall() => new() { AppId = App.AppId, Alias = Alias, Options = Options, RemainingWait = Deadline.Remaining };
}
