using System.Runtime.CompilerServices;
using Gatehouse.Apps;
using Gatehouse.Chat;
using Gatehouse.Grains;
using Orleans.Concurrency;

namespace Gatehouse.Gateway;

/// <summary>The grain clients' entry point: checks the app key and the alias, then hands the call to the alias's router.</summary>
[StatelessWorker, Reentrant]
internal sealed class GatewayGrain(RequestAuthorizer authorizer) : Grain, IGatewayGrain
{
    public Task<ChatResponse> CompleteAsync(string appKey, ChatRequest request, CancellationToken cancellationToken = default)
    {
        var app = authorizer.Authorize(appKey, request.Model);
        return GrainFactory.GetGrain<IRouterGrain>(GrainKeys.Router(request.Model))
            .CompleteAsync(new RoutedCall { AppId = app.AppId, Request = request }, cancellationToken);
    }

    public async IAsyncEnumerable<ChatChunk> StreamAsync(string appKey, ChatRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var app = authorizer.Authorize(appKey, request.Model);
        var router = GrainFactory.GetGrain<IRouterGrain>(GrainKeys.Router(request.Model));
        await foreach (var chunk in router.StreamAsync(new RoutedCall { AppId = app.AppId, Request = request }, cancellationToken).WithCancellation(cancellationToken))
        {
            yield return chunk;
        }
    }

    public Task<IReadOnlyList<string>> ListModelsAsync(string appKey, CancellationToken cancellationToken = default) =>
        Task.FromResult(authorizer.ModelsFor(authorizer.Authenticate(appKey)));
}
