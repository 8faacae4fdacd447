using Gatehouse.Apps;
using Gatehouse.Chat;
using Gatehouse.Grains;

namespace Gatehouse.Gateway;

/// <summary>
/// The one request path behind every front end (OpenAI HTTP, Anthropic HTTP, grain clients): it runs on the silo
/// that received the request, after the caller was authenticated and authorized.
/// </summary>
/// <remarks>Thread-safe singleton. Failures surface as <see cref="Errors.GatewayException"/>.</remarks>
public sealed class ChatPipeline(IGrainFactory grainFactory)
{
    public Task<ChatResponse> CompleteAsync(AppIdentity app, ChatRequest request, CallOptions options, CancellationToken cancellationToken) =>
        Router(request).CompleteAsync(Call(app, request, options), cancellationToken);

    public IAsyncEnumerable<ChatChunk> StreamAsync(AppIdentity app, ChatRequest request, CallOptions options, CancellationToken cancellationToken) =>
        Router(request).StreamAsync(Call(app, request, options), cancellationToken);

    private IRouterGrain Router(ChatRequest request) => grainFactory.GetGrain<IRouterGrain>(GrainKeys.Router(request.Model));

    private static RoutedCall Call(AppIdentity app, ChatRequest request, CallOptions options) =>
        new() { AppId = app.AppId, Request = request, Options = options };
}
