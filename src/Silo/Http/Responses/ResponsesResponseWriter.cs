using System.Text.Json;
using Gatehouse.Chat;
using Gatehouse.Errors;
using Gatehouse.Responses;

namespace Gatehouse.Silo.Http.Responses;

/// <summary>Writes stored responses in OpenAI's Responses API wire format, straight to a <see cref="Utf8JsonWriter"/>.</summary>
/// <remarks>
/// A response's output is its answer's text as one <c>message</c> item (when there is text), then one
/// <c>function_call</c> item per tool call; an item's id derives from its index there (<see cref="ResponseItemIds"/>),
/// so the response, its stream and every later read name an item the same way. Everything written is single-line
/// JSON (echoed schemas are re-serialized), as the stream's <c>data:</c> lines need.
/// </remarks>
internal static class ResponsesResponseWriter
{
    /// <summary>OpenAI's default and largest page size of <c>GET /v1/responses/{id}/input_items</c>.</summary>
    public const int DefaultInputItemsLimit = 20, MaxInputItemsLimit = 100;

    /// <summary>The response object: <c>in_progress</c> while it has no answer, then <c>completed</c> or <c>incomplete</c>.</summary>
    public static void WriteResponse(Utf8JsonWriter writer, StoredResponse response) => Write(writer, response, error: null);

    /// <summary>
    /// The response object of a response that failed (<c>status: failed</c>) with <c>error: {code, message}</c>; its
    /// output is what <see cref="StoredResponse.Answer"/> holds of the partial answer, if anything, every item incomplete.
    /// </summary>
    /// <remarks>The message is the <see cref="GatewayException"/>'s, which never holds a secret.</remarks>
    public static void WriteFailed(Utf8JsonWriter writer, StoredResponse response, GatewayException error) => Write(writer, response, error);

    /// <summary>
    /// One page of <c>GET /v1/responses/{id}/input_items</c>: OpenAI's <c>{"object":"list","data","first_id","last_id","has_more"}</c>
    /// over the response's own input (<see cref="StoredResponse.InputStart"/> on), item <c>k</c> of which is
    /// <see cref="ResponseItemIds.Input"/>(id, k) counted in the order the items were given.
    /// </summary>
    /// <param name="limit">OpenAI's <c>limit</c>: 1 to 100 items; null for 20.</param>
    /// <param name="order">OpenAI's <c>order</c>: <c>asc</c> (as given) or <c>desc</c> (latest first); null for <c>desc</c>.</param>
    /// <param name="after">OpenAI's <c>after</c>: the page starts after this item, in <paramref name="order"/>; null to start at the first.</param>
    /// <exception cref="GatewayException">
    /// An invalid request (param <c>limit</c>, <c>order</c> or <c>after</c>) when a parameter is out of range or names no
    /// input item; thrown before anything is written.
    /// </exception>
    public static void WriteInputItems(Utf8JsonWriter writer, StoredResponse response, int? limit = null, string? order = null, string? after = null)
    {
        var pageSize = limit ?? DefaultInputItemsLimit;
        if (pageSize is < 1 or > MaxInputItemsLimit)
        {
            throw JsonFieldReader.Invalid($"Invalid 'limit': {pageSize} is out of range; it must be between 1 and {MaxInputItemsLimit}.", "limit");
        }

        var ascending = order switch
        {
            null or "desc" => false,
            "asc" => true,
            _ => throw JsonFieldReader.Invalid($"Invalid value for 'order': '{order}'. Supported values are: 'asc' and 'desc'.", "order"),
        };

        var items = InputItems(response);
        var start = 0;
        if (after is not null)
        {
            var found = -1;
            for (var k = 0; k < items.Count && found < 0; k++)
            {
                if (ResponseItemIds.Input(response.Id, k) == after)
                {
                    found = k;
                }
            }

            if (found < 0)
            {
                throw JsonFieldReader.Invalid($"Invalid 'after': response '{response.Id}' has no input item '{after}'.", "after");
            }

            start = (ascending ? found : items.Count - 1 - found) + 1;
        }

        var count = Math.Min(pageSize, items.Count - start);
        writer.WriteStartObject();
        writer.WriteString("object"u8, "list"u8);
        writer.WriteStartArray("data"u8);
        for (var position = start; position < start + count; position++)
        {
            var k = ascending ? position : items.Count - 1 - position;
            WriteInputItem(writer, ResponseItemIds.Input(response.Id, k), items[k]);
        }

        writer.WriteEndArray();
        WriteNullableString(writer, "first_id"u8, count > 0 ? ResponseItemIds.Input(response.Id, ascending ? start : items.Count - 1 - start) : null);
        WriteNullableString(writer, "last_id"u8, count > 0 ? ResponseItemIds.Input(response.Id, ascending ? start + count - 1 : items.Count - start - count) : null);
        writer.WriteBoolean("has_more"u8, start + count < items.Count);
        writer.WriteEndObject();
    }

    /// <summary>What <c>DELETE /v1/responses/{id}</c> answers: <c>{"id","object":"response","deleted":true}</c>.</summary>
    public static void WriteDeleted(Utf8JsonWriter writer, string id)
    {
        writer.WriteStartObject();
        writer.WriteString("id"u8, id);
        writer.WriteString("object"u8, "response"u8);
        writer.WriteBoolean("deleted"u8, true);
        writer.WriteEndObject();
    }

    /// <summary>Why an answer is <c>incomplete</c>, as OpenAI's <c>incomplete_details.reason</c>; null when it is complete.</summary>
    internal static string? IncompleteReason(FinishReason reason) => reason switch
    {
        FinishReason.Length => "max_output_tokens",
        FinishReason.ContentFilter => "content_filter",
        _ => null,
    };

    /// <summary>A <c>message</c> output item holding <paramref name="text"/> as one <c>output_text</c> part; no part when null.</summary>
    internal static void WriteMessageItem(Utf8JsonWriter writer, string id, string status, string? text)
    {
        writer.WriteStartObject();
        writer.WriteString("id"u8, id);
        writer.WriteString("type"u8, "message"u8);
        writer.WriteString("status"u8, status);
        writer.WriteString("role"u8, "assistant"u8);
        writer.WriteStartArray("content"u8);
        if (text is not null)
        {
            WriteOutputText(writer, text);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    internal static void WriteOutputText(Utf8JsonWriter writer, string text)
    {
        writer.WriteStartObject();
        writer.WriteString("type"u8, "output_text"u8);
        writer.WriteString("text"u8, text);
        writer.WriteStartArray("annotations"u8);
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    internal static void WriteFunctionCallItem(Utf8JsonWriter writer, string id, string status, string callId, string name, string arguments)
    {
        writer.WriteStartObject();
        writer.WriteString("id"u8, id);
        writer.WriteString("type"u8, "function_call"u8);
        writer.WriteString("status"u8, status);
        writer.WriteString("call_id"u8, callId);
        writer.WriteString("name"u8, name);
        writer.WriteString("arguments"u8, arguments);
        writer.WriteEndObject();
    }

    private static void Write(Utf8JsonWriter writer, StoredResponse response, GatewayException? error)
    {
        var request = response.Request;
        var answer = response.Answer;
        var incomplete = error is null && answer is not null ? IncompleteReason(answer.FinishReason) : null;
        var status = error is not null ? "failed" : answer is null ? "in_progress" : incomplete is not null ? "incomplete" : "completed";

        writer.WriteStartObject();
        writer.WriteString("id"u8, response.Id);
        writer.WriteString("object"u8, "response"u8);
        writer.WriteNumber("created_at"u8, response.CreatedAt);
        writer.WriteString("status"u8, status);
        writer.WriteBoolean("background"u8, false);
        if (error is null)
        {
            writer.WriteNull("error"u8);
        }
        else
        {
            writer.WriteStartObject("error"u8);
            writer.WriteString("code"u8, ErrorCode(error.Error));
            writer.WriteString("message"u8, error.Message);
            writer.WriteEndObject();
        }

        if (incomplete is null)
        {
            writer.WriteNull("incomplete_details"u8);
        }
        else
        {
            writer.WriteStartObject("incomplete_details"u8);
            writer.WriteString("reason"u8, incomplete);
            writer.WriteEndObject();
        }

        WriteNullableString(writer, "instructions"u8, response.Instructions);
        WriteNullableNumber(writer, "max_output_tokens"u8, request.MaxTokens);
        writer.WriteString("model"u8, answer?.Model ?? request.Model);
        writer.WriteStartArray("output"u8);
        if (answer is not null)
        {
            WriteOutput(writer, response.Id, answer, error is null && incomplete is null ? "completed" : "incomplete", error is null ? "completed" : "incomplete");
        }

        writer.WriteEndArray();
        writer.WriteBoolean("parallel_tool_calls"u8, request.ParallelToolCalls ?? true);
        WriteNullableString(writer, "previous_response_id"u8, response.PreviousResponseId);
        writer.WriteBoolean("store"u8, response.Store);
        WriteNullableNumber(writer, "temperature"u8, request.Temperature);
        writer.WriteStartObject("text"u8);
        writer.WritePropertyName("format"u8);
        WriteFormat(writer, request.ResponseFormat);
        writer.WriteEndObject();
        writer.WritePropertyName("tool_choice"u8);
        WriteToolChoice(writer, request.ToolChoice);
        writer.WriteStartArray("tools"u8);
        foreach (var tool in request.Tools)
        {
            WriteTool(writer, tool);
        }

        writer.WriteEndArray();
        WriteNullableNumber(writer, "top_p"u8, request.TopP);
        writer.WriteString("truncation"u8, "disabled"u8);
        if (answer?.Usage is { } usage)
        {
            WriteUsage(writer, usage);
        }
        else
        {
            writer.WriteNull("usage"u8);
        }

        WriteNullableString(writer, "user"u8, request.User);
        writer.WriteStartObject("metadata"u8);
        foreach (var (key, value) in response.Metadata)
        {
            writer.WriteString(key, value);
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static void WriteOutput(Utf8JsonWriter writer, string responseId, ChatResponse answer, string messageStatus, string callStatus)
    {
        var index = 0;
        var text = answer.Message.Text;
        if (text.Length > 0)
        {
            WriteMessageItem(writer, ResponseItemIds.Message(responseId, index++), messageStatus, text);
        }

        foreach (var call in answer.Message.ToolCalls)
        {
            WriteFunctionCallItem(writer, ResponseItemIds.FunctionCall(responseId, index++), callStatus, call.Id, call.Name, call.ArgumentsJson);
        }
    }

    private static void WriteUsage(Utf8JsonWriter writer, Usage usage)
    {
        writer.WriteStartObject("usage"u8);
        writer.WriteNumber("input_tokens"u8, usage.PromptTokens);
        writer.WriteStartObject("input_tokens_details"u8);
        writer.WriteNumber("cached_tokens"u8, usage.CachedPromptTokens);
        writer.WriteEndObject();
        writer.WriteNumber("output_tokens"u8, usage.CompletionTokens);
        writer.WriteStartObject("output_tokens_details"u8);
        writer.WriteNumber("reasoning_tokens"u8, 0);
        writer.WriteEndObject();
        writer.WriteNumber("total_tokens"u8, usage.TotalTokens);
        writer.WriteEndObject();
    }

    private static void WriteFormat(Utf8JsonWriter writer, ResponseFormat? format)
    {
        writer.WriteStartObject();
        switch (format?.Kind)
        {
            case ResponseFormatKind.JsonObject:
                writer.WriteString("type"u8, "json_object"u8);
                break;
            case ResponseFormatKind.JsonSchema:
                writer.WriteString("type"u8, "json_schema"u8);
                writer.WriteString("name"u8, format.SchemaName ?? string.Empty);
                if (format.SchemaJson is not null)
                {
                    writer.WritePropertyName("schema"u8);
                    WriteJson(writer, format.SchemaJson);
                }

                if (format.Strict is { } strict)
                {
                    writer.WriteBoolean("strict"u8, strict);
                }
                else
                {
                    writer.WriteNull("strict"u8);
                }

                break;
            default:
                writer.WriteString("type"u8, "text"u8);
                break;
        }

        writer.WriteEndObject();
    }

    private static void WriteToolChoice(Utf8JsonWriter writer, ToolChoice? choice)
    {
        switch (choice?.Mode)
        {
            case ToolChoiceMode.None:
                writer.WriteStringValue("none"u8);
                break;
            case ToolChoiceMode.Required:
                writer.WriteStringValue("required"u8);
                break;
            case ToolChoiceMode.Function:
                writer.WriteStartObject();
                writer.WriteString("type"u8, "function"u8);
                writer.WriteString("name"u8, choice.FunctionName ?? string.Empty);
                writer.WriteEndObject();
                break;
            default:
                writer.WriteStringValue("auto"u8);
                break;
        }
    }

    private static void WriteTool(Utf8JsonWriter writer, ToolDefinition tool)
    {
        writer.WriteStartObject();
        writer.WriteString("type"u8, "function"u8);
        writer.WriteString("name"u8, tool.Name);
        WriteNullableString(writer, "description"u8, tool.Description);
        writer.WritePropertyName("parameters"u8);
        if (tool.ParametersJson is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            WriteJson(writer, tool.ParametersJson);
        }

        if (tool.Strict is { } strict)
        {
            writer.WriteBoolean("strict"u8, strict);
        }
        else
        {
            writer.WriteNull("strict"u8);
        }

        writer.WriteEndObject();
    }

    /// <summary>
    /// A schema as the caller sent it, re-serialized: its original text may span lines, and an SSE <c>data:</c> line
    /// must not.
    /// </summary>
    private static void WriteJson(Utf8JsonWriter writer, string json)
    {
        using var document = JsonDocument.Parse(json);
        document.RootElement.WriteTo(writer);
    }

    /// <summary>
    /// The response's own input as OpenAI lists it: a message per system, user and assistant message (an assistant
    /// message only when it has content), a <c>function_call</c> per tool call, a <c>function_call_output</c> per tool message.
    /// </summary>
    private static List<InputItem> InputItems(StoredResponse response)
    {
        var messages = response.Request.Messages;
        var items = new List<InputItem>(Math.Max(0, messages.Length - response.InputStart));
        for (var m = Math.Max(0, response.InputStart); m < messages.Length; m++)
        {
            var message = messages[m];
            if (message.Role != ChatRole.Assistant || !message.Content.IsEmpty)
            {
                items.Add(new InputItem(message, -1));
            }

            for (var c = 0; c < message.ToolCalls.Length; c++)
            {
                items.Add(new InputItem(message, c));
            }
        }

        return items;
    }

    private static void WriteInputItem(Utf8JsonWriter writer, string id, InputItem item)
    {
        var message = item.Message;
        if (item.Call >= 0)
        {
            var call = message.ToolCalls[item.Call];
            WriteFunctionCallItem(writer, id, "completed", call.Id, call.Name, call.ArgumentsJson);
            return;
        }

        writer.WriteStartObject();
        writer.WriteString("id"u8, id);
        if (message.Role == ChatRole.Tool)
        {
            writer.WriteString("type"u8, "function_call_output"u8);
            writer.WriteString("status"u8, "completed"u8);
            writer.WriteString("call_id"u8, message.ToolCallId ?? string.Empty);
            writer.WriteString("output"u8, message.Text);
            writer.WriteEndObject();
            return;
        }

        writer.WriteString("type"u8, "message"u8);
        writer.WriteString("status"u8, "completed"u8);
        writer.WriteString("role"u8, message.Role switch
        {
            ChatRole.Assistant => "assistant",
            ChatRole.User => "user",
            _ => "system",
        });
        writer.WriteStartArray("content"u8);
        foreach (var part in message.Content)
        {
            if (message.Role == ChatRole.Assistant)
            {
                WriteOutputText(writer, part.Text ?? string.Empty);
                continue;
            }

            writer.WriteStartObject();
            if (part.Kind == ContentPartKind.ImageUrl)
            {
                writer.WriteString("type"u8, "input_image"u8);
                WriteNullableString(writer, "image_url"u8, part.ImageUrl);
                writer.WriteNull("file_id"u8);
                writer.WriteString("detail"u8, part.ImageDetail ?? "auto");
            }
            else
            {
                writer.WriteString("type"u8, "input_text"u8);
                writer.WriteString("text"u8, part.Text ?? string.Empty);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>OpenAI's <c>error.code</c> of a failed response (one of its documented codes).</summary>
    private static string ErrorCode(GatewayError error) => error switch
    {
        GatewayError.RateLimited or GatewayError.BudgetExhausted => "rate_limit_exceeded",
        GatewayError.InvalidRequest or GatewayError.ContextLengthExceeded => "invalid_prompt",
        _ => "server_error",
    };

    private static void WriteNullableString(Utf8JsonWriter writer, ReadOnlySpan<byte> name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }

    private static void WriteNullableNumber(Utf8JsonWriter writer, ReadOnlySpan<byte> name, int? value)
    {
        if (value is { } number)
        {
            writer.WriteNumber(name, number);
        }
        else
        {
            writer.WriteNull(name);
        }
    }

    private static void WriteNullableNumber(Utf8JsonWriter writer, ReadOnlySpan<byte> name, double? value)
    {
        if (value is { } number)
        {
            writer.WriteNumber(name, number);
        }
        else
        {
            writer.WriteNull(name);
        }
    }

    /// <summary>An item of the input list: a message, or (<see cref="Call"/> ≥ 0) one tool call of an assistant message.</summary>
    private readonly record struct InputItem(ChatMessage Message, int Call);
}
