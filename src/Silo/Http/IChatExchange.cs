using System.IO.Pipelines;
using Gatehouse.Apps;
using Gatehouse.Chat;

namespace Gatehouse.Silo.Http;

/// <summary>
/// One request through a chat front end: the canonical request it was read into, and how its answer becomes bytes.
/// Chat Completions and Messages answer from the canonical answer alone (<see cref="PlainChatExchange"/>); the
/// Responses API also reads and keeps stored responses around the pipeline.
/// </summary>
internal interface IChatExchange
{
    /// <summary>The request the pipeline runs; final once <see cref="PrepareAsync"/> has run.</summary>
    ChatRequest Request { get; }

    bool Stream { get; }

    /// <summary>Runs once the caller is authenticated and may use the alias, before the pipeline.</summary>
    ValueTask PrepareAsync(AppIdentity app, CancellationToken cancellationToken);

    Task WriteResponseAsync(HttpResponse response, ChatResponse answer);

    IChatStreamWriter CreateStreamWriter(PipeWriter output);

    /// <summary>Runs after the stream's last chunk was written and before its end is, so what the end announces exists.</summary>
    ValueTask StreamCompletedAsync(CancellationToken cancellationToken);
}
