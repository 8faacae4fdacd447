using System.Runtime.CompilerServices;
using Gatehouse.Apps;
using Gatehouse.Chat;
using Gatehouse.Grains;
using Orleans.Concurrency;

namespace Gatehouse.Gateway;

/// <summary>The grain clients' entry point: checks the app key and the alias, then runs the <see cref="ChatPipeline"/>.</summary>
// One activation per silo: a streamed answer is enumerated by several grain calls, which must all reach the
// activation that started it (a second local worker has no record of the enumerator). Reentrancy gives the concurrency.
[StatelessWorker(1), Reentrant]
internal sealed class GatewayGrain(RequestAuthorizer authorizer, ChatPipeline pipeline) : Grain, IGatewayGrain
{
    public Task<ChatResponse> CompleteAsync(string appKey, ChatRequest request, CancellationToken cancellationToken = default) =>
        pipeline.CompleteAsync(authorizer.Authorize(appKey, request.Model), request, CallOptions.Default, cancellationToken);

    public async IAsyncEnumerable<ChatChunk> StreamAsync(string appKey, ChatRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var app = authorizer.Authorize(appKey, request.Model);
        await foreach (var chunk in pipeline.StreamAsync(app, request, CallOptions.Default, cancellationToken).WithCancellation(cancellationToken))
        {
            yield return chunk;
        }
    }

    public Task<IReadOnlyList<string>> ListModelsAsync(string appKey, CancellationToken cancellationToken = default) =>
        Task.FromResult(authorizer.ModelsFor(authorizer.Authenticate(appKey)));
}
