using System.IO.Pipelines;
using System.Text.Json;
using Gatehouse.Apps;
using Gatehouse.Chat;

namespace Gatehouse.Silo.Http;

/// <summary>An exchange whose answer is written from the canonical answer alone.</summary>
internal sealed class PlainChatExchange(
    ChatRequest request, bool stream, Action<Utf8JsonWriter, ChatResponse> writeResponse, Func<PipeWriter, IChatStreamWriter> createStreamWriter)
    : IChatExchange
{
    public ChatRequest Request => request;

    public bool Stream => stream;

    public ValueTask PrepareAsync(AppIdentity app, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public Task WriteResponseAsync(HttpResponse response, ChatResponse answer) => ChatEndpoint.WriteJsonAsync(response, answer, writeResponse);

    public IChatStreamWriter CreateStreamWriter(PipeWriter output) => createStreamWriter(output);

    public ValueTask StreamCompletedAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
