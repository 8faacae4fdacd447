using System.Runtime.CompilerServices;
using Gatehouse.Apps;
using Gatehouse.Chat;
using Gatehouse.Grains;
using Gatehouse.RateLimiting;

namespace Gatehouse.Gateway;

/// <summary>
/// The one request path behind every front end (OpenAI HTTP, Anthropic HTTP, grain clients): it runs on the silo
/// that received the request, after the caller was authenticated and authorized.
/// </summary>
/// <remarks>Thread-safe singleton. Failures surface as <see cref="Errors.GatewayException"/>.</remarks>
public sealed class ChatPipeline(IGrainFactory grainFactory, AppQuotas appQuotas)
{
    public async Task<ChatResponse> CompleteAsync(AppIdentity app, ChatRequest request, CallOptions options, CancellationToken cancellationToken)
    {
        // [issue 4 quota seam] The app's own quota before routing (429 when exhausted), reconciled with the reported usage after.
        var quota = await appQuotas.AcquireAsync(app.AppId, request, options, cancellationToken);
        var response = await Router(request).CompleteAsync(Call(app, request, options), cancellationToken);
        appQuotas.Reconcile(quota, response.Usage);
        return response;
    }

    public async IAsyncEnumerable<ChatChunk> StreamAsync(AppIdentity app, ChatRequest request, CallOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // [issue 4 quota seam] As above; a stream is reconciled with its usage chunk when it has one.
        var quota = await appQuotas.AcquireAsync(app.AppId, request, options, cancellationToken);
        Usage? usage = null;
        await foreach (var chunk in Router(request).StreamAsync(Call(app, request, options), cancellationToken).WithCancellation(cancellationToken))
        {
            usage = chunk.Usage ?? usage;
            yield return chunk;
        }

        appQuotas.Reconcile(quota, usage);
    }

    private IRouterGrain Router(ChatRequest request) => grainFactory.GetGrain<IRouterGrain>(GrainKeys.Router(request.Model));

    private static RoutedCall Call(AppIdentity app, ChatRequest request, CallOptions options) =>
        new() { AppId = app.AppId, Request = request, Options = options };
}
