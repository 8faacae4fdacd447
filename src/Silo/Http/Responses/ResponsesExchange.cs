using System.Collections.Immutable;
using System.IO.Pipelines;
using Gatehouse.Apps;
using Gatehouse.Chat;
using Gatehouse.Configuration;
using Gatehouse.Errors;
using Gatehouse.Grains;
using Gatehouse.Responses;
using Microsoft.Extensions.Options;

namespace Gatehouse.Silo.Http.Responses;

/// <summary>
/// One <c>POST /v1/responses</c>: continues the previous response's conversation when the request names one, and keeps
/// the answer (<c>store</c>, the default) before the caller is told it exists — before the JSON answer, or before a
/// stream's <c>response.completed</c> — so the caller's next request can continue it at once, through any silo.
/// </summary>
internal sealed partial class ResponsesExchange(ResponsesRequest read, IServiceProvider services) : IChatExchange
{
    private ChatRequest? _request;
    private StoredResponse? _started;
    private ResponsesStreamWriter? _writer;

    public ChatRequest Request => _request ?? read.Options;

    public bool Stream => read.Stream;

    public async ValueTask PrepareAsync(AppIdentity app, CancellationToken cancellationToken)
    {
        var conversation = ImmutableArray<ChatMessage>.Empty;
        if (read.PreviousResponseId is { } previousId)
        {
            var previous = await ResponseGrains.Find(services.GetRequiredService<IGrainFactory>(), previousId, app.AppId)
                ?? throw new GatewayException(GatewayError.InvalidRequest, $"Previous response with id '{previousId}' not found.", "previous_response_id");
            conversation = previous.Request.Messages;
            if (previous.Answer is { } answer)
            {
                conversation = conversation.Add(answer.Message);
            }
        }

        conversation = conversation.AddRange(read.Input);
        var sent = read.Instructions is { } instructions ? conversation.Insert(0, ChatMessage.FromText(ChatRole.System, instructions)) : conversation;
        _request = read.Options with { Messages = sent };
        _started = new StoredResponse
        {
            Id = ResponseItemIds.NewResponseId(),
            AppId = app.AppId,
            CreatedAt = services.GetRequiredService<TimeProvider>().GetUtcNow().ToUnixTimeSeconds(),
            Request = read.Options with { Messages = conversation },
            InputStart = conversation.Length - read.Input.Length,
            Instructions = read.Instructions,
            PreviousResponseId = read.PreviousResponseId,
            Metadata = read.Metadata,
            Store = read.Store,
        };
    }

    public async Task WriteResponseAsync(HttpResponse response, ChatResponse answer)
    {
        var kept = await KeepAsync(Started with { Answer = answer }, response.HttpContext.RequestAborted);
        await ChatEndpoint.WriteJsonAsync(response, kept, ResponsesResponseWriter.WriteResponse);
    }

    public IChatStreamWriter CreateStreamWriter(PipeWriter output) => _writer = new ResponsesStreamWriter(output, Started);

    public async ValueTask StreamCompletedAsync(CancellationToken cancellationToken)
    {
        var writer = _writer ?? throw new InvalidOperationException("The stream ended before its writer was made.");
        writer.Finish(await KeepAsync(writer.Assemble(), cancellationToken));
    }

    private StoredResponse Started => _started ?? throw new InvalidOperationException("PrepareAsync has not run.");

    /// <summary>Stores the response when it asked to be; one that could not be stored is answered anyway, marked <c>store: false</c>.</summary>
    private async Task<StoredResponse> KeepAsync(StoredResponse response, CancellationToken cancellationToken)
    {
        if (!response.Store)
        {
            return response;
        }

        var retention = TimeSpan.FromDays(services.GetRequiredService<IOptions<GatehouseOptions>>().Value.Responses.RetentionDays);
        var expiresAt = DateTimeOffset.FromUnixTimeSeconds(response.CreatedAt) + retention;
        try
        {
            await services.GetRequiredService<IGrainFactory>().GetGrain<IResponseGrain>(response.Id).StoreAsync(response, expiresAt).WaitAsync(cancellationToken);
            return response;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The answer was made and billed: losing it would be worse than not being able to continue it.
            LogNotStored(services.GetRequiredService<ILogger<ResponsesExchange>>(), response.Id, ex.GetType().Name);
            return response with { Store = false };
        }
    }

    [LoggerMessage(EventId = GatehouseEventIds.ResponseNotStored, Level = LogLevel.Warning, Message = "Response {ResponseId} could not be stored ({Error}); it was answered with store: false")]
    private static partial void LogNotStored(ILogger logger, string responseId, string error);
}
