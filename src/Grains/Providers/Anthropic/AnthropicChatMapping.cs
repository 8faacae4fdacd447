using System.Buffers;
using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using Gatehouse.Chat;
using Gatehouse.Errors;

namespace Gatehouse.Providers.Anthropic;

/// <summary>Translates between the canonical chat model and Anthropic's Messages API wire format.</summary>
/// <remarks>
/// The request body is written as raw JSON rather than through the SDK's typed builders: tool schemas and tool
/// inputs are caller JSON that must reach Anthropic verbatim, and one writer pass is cheaper than the SDK's object
/// graph. Answers are read from the SDK's raw JSON for the same reason. What Anthropic cannot express is rejected
/// with <see cref="GatewayError.InvalidRequest"/> naming the field, never dropped silently.
/// </remarks>
internal static class AnthropicChatMapping
{
    private const string DataUriPrefix = "data:";
    private const string Base64Marker = ";base64,";

    /// <summary>Writes the Messages API body for <paramref name="request"/> (without <c>stream</c>, which the SDK adds).</summary>
    public static Dictionary<string, JsonElement> ToAnthropicBody(ChatRequest request, int defaultMaxTokens)
    {
        ArgumentNullException.ThrowIfNull(request);
        Validate(request);

        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteBody(writer, request, defaultMaxTokens);
        }

        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        var body = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in document.RootElement.EnumerateObject())
        {
            body[property.Name] = property.Value.Clone();
        }

        return body;
    }

    internal static void WriteBody(Utf8JsonWriter writer, ChatRequest request, int defaultMaxTokens)
    {
        writer.WriteStartObject();
        writer.WriteString("model"u8, request.Model);
        writer.WriteNumber("max_tokens"u8, request.MaxTokens ?? defaultMaxTokens);

        var system = SystemText(request.Messages);
        if (system is not null)
        {
            writer.WriteString("system"u8, system);
        }

        writer.WriteStartArray("messages"u8);
        WriteMessages(writer, request.Messages);
        writer.WriteEndArray();

        if (request.Temperature is { } temperature)
        {
            writer.WriteNumber("temperature"u8, temperature);
        }

        if (request.TopP is { } topP)
        {
            writer.WriteNumber("top_p"u8, topP);
        }

        if (!request.Stop.IsDefaultOrEmpty)
        {
            writer.WriteStartArray("stop_sequences"u8);
            foreach (var stop in request.Stop)
            {
                writer.WriteStringValue(stop);
            }

            writer.WriteEndArray();
        }

        if (!request.Tools.IsDefaultOrEmpty)
        {
            writer.WriteStartArray("tools"u8);
            foreach (var tool in request.Tools)
            {
                writer.WriteStartObject();
                writer.WriteString("name"u8, tool.Name);
                if (tool.Description is not null)
                {
                    writer.WriteString("description"u8, tool.Description);
                }

                writer.WritePropertyName("input_schema"u8);
                if (tool.ParametersJson is { Length: > 0 } schema)
                {
                    WriteRawObject(writer, schema, "tools");
                }
                else
                {
                    // Anthropic requires a schema; OpenAI allows a function without parameters, which means "no arguments".
                    writer.WriteStartObject();
                    writer.WriteString("type"u8, "object"u8);
                    writer.WriteStartObject("properties"u8);
                    writer.WriteEndObject();
                    writer.WriteEndObject();
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            WriteToolChoice(writer, request.ToolChoice, request.ParallelToolCalls);
        }

        if (request.User is not null)
        {
            writer.WriteStartObject("metadata"u8);
            writer.WriteString("user_id"u8, request.User);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }

    /// <summary>Rejects what Anthropic's Messages API has no way to express.</summary>
    private static void Validate(ChatRequest request)
    {
        if (string.IsNullOrEmpty(request.Model))
        {
            throw Invalid("the request names no model", "model");
        }

        if (request.Seed is not null)
        {
            throw Invalid("'seed' is not supported by Anthropic models; remove it or use an alias served by OpenAI.", "seed");
        }

        if (request.PresencePenalty is not null)
        {
            throw Invalid("'presence_penalty' is not supported by Anthropic models.", "presence_penalty");
        }

        if (request.FrequencyPenalty is not null)
        {
            throw Invalid("'frequency_penalty' is not supported by Anthropic models.", "frequency_penalty");
        }

        if (request.Temperature is > 1)
        {
            throw Invalid($"Invalid 'temperature': {request.Temperature}; Anthropic models accept 0 to 1.", "temperature");
        }

        if (request.ResponseFormat is { Kind: ResponseFormatKind.JsonObject or ResponseFormatKind.JsonSchema })
        {
            // Anthropic has no JSON mode; emulating one (a forced tool call) would change the answer's shape behind
            // the caller's back, so it is refused instead.
            throw Invalid("'response_format' json_object/json_schema is not supported by Anthropic models; describe the JSON in the prompt or use a tool.", "response_format");
        }

        if (request.ToolChoice is { Mode: not ToolChoiceMode.None and not ToolChoiceMode.Auto } && request.Tools.IsDefaultOrEmpty)
        {
            throw Invalid("'tool_choice' requires 'tools'.", "tool_choice");
        }
    }

    private static string? SystemText(ImmutableArray<ChatMessage> messages)
    {
        StringBuilder? system = null;
        foreach (var message in messages)
        {
            if (message.Role != ChatRole.System)
            {
                continue;
            }

            if (!message.Content.IsDefaultOrEmpty && message.Content.Any(p => p.Kind != ContentPartKind.Text))
            {
                throw Invalid("Anthropic accepts only text in system prompts.", "messages");
            }

            system ??= new StringBuilder();
            if (system.Length > 0)
            {
                system.Append("\n\n");
            }

            system.Append(message.Text);
        }

        return system?.ToString();
    }

    private static void WriteMessages(Utf8JsonWriter writer, ImmutableArray<ChatMessage> messages)
    {
        // Anthropic wants tool results as tool_result blocks of a user turn: consecutive tool messages (and a user
        // message right after them) become one user turn.
        var userTurnOpen = false;
        foreach (var message in messages)
        {
            switch (message.Role)
            {
                case ChatRole.System:
                    continue;
                case ChatRole.Tool:
                    if (!userTurnOpen)
                    {
                        OpenTurn(writer, "user"u8);
                        userTurnOpen = true;
                    }

                    if (string.IsNullOrEmpty(message.ToolCallId))
                    {
                        throw Invalid("a tool message needs the id of the tool call it answers", "messages");
                    }

                    writer.WriteStartObject();
                    writer.WriteString("type"u8, "tool_result"u8);
                    writer.WriteString("tool_use_id"u8, message.ToolCallId);
                    writer.WriteString("content"u8, message.Text);
                    writer.WriteEndObject();
                    break;
                case ChatRole.User:
                    if (!userTurnOpen)
                    {
                        OpenTurn(writer, "user"u8);
                        userTurnOpen = true;
                    }

                    WriteParts(writer, message.Content);
                    break;
                case ChatRole.Assistant:
                    if (userTurnOpen)
                    {
                        CloseTurn(writer);
                        userTurnOpen = false;
                    }

                    OpenTurn(writer, "assistant"u8);
                    WriteParts(writer, message.Content);
                    foreach (var call in message.ToolCalls)
                    {
                        writer.WriteStartObject();
                        writer.WriteString("type"u8, "tool_use"u8);
                        writer.WriteString("id"u8, call.Id);
                        writer.WriteString("name"u8, call.Name);
                        writer.WritePropertyName("input"u8);
                        WriteRawObject(writer, string.IsNullOrWhiteSpace(call.ArgumentsJson) ? "{}" : call.ArgumentsJson, "messages");
                        writer.WriteEndObject();
                    }

                    CloseTurn(writer);
                    break;
                default:
                    throw Invalid($"unknown message role '{message.Role}'", "messages");
            }
        }

        if (userTurnOpen)
        {
            CloseTurn(writer);
        }
    }

    private static void OpenTurn(Utf8JsonWriter writer, ReadOnlySpan<byte> role)
    {
        writer.WriteStartObject();
        writer.WriteString("role"u8, role);
        writer.WriteStartArray("content"u8);
    }

    private static void CloseTurn(Utf8JsonWriter writer)
    {
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteParts(Utf8JsonWriter writer, ImmutableArray<ContentPart> content)
    {
        if (content.IsDefaultOrEmpty)
        {
            return;
        }

        foreach (var part in content)
        {
            switch (part.Kind)
            {
                case ContentPartKind.Text:
                    // Anthropic rejects empty text blocks ("text content blocks must be non-empty").
                    if (!string.IsNullOrEmpty(part.Text))
                    {
                        writer.WriteStartObject();
                        writer.WriteString("type"u8, "text"u8);
                        writer.WriteString("text"u8, part.Text);
                        writer.WriteEndObject();
                    }

                    break;
                case ContentPartKind.ImageUrl:
                    WriteImage(writer, part.ImageUrl);
                    break;
                default:
                    throw Invalid($"unknown content part '{part.Kind}'", "messages");
            }
        }
    }

    private static void WriteImage(Utf8JsonWriter writer, string? url)
    {
        if (string.IsNullOrEmpty(url))
        {
            throw Invalid("an image part has no url", "messages");
        }

        writer.WriteStartObject();
        writer.WriteString("type"u8, "image"u8);
        writer.WriteStartObject("source"u8);
        if (url.StartsWith(DataUriPrefix, StringComparison.OrdinalIgnoreCase))
        {
            var marker = url.IndexOf(Base64Marker, StringComparison.OrdinalIgnoreCase);
            if (marker < 0)
            {
                throw Invalid("an image data: URI must be base64-encoded", "messages");
            }

            var mediaType = url[DataUriPrefix.Length..marker];
            if (mediaType.Length == 0)
            {
                throw Invalid("an image data: URI must name its media type (image/jpeg, image/png, image/gif or image/webp)", "messages");
            }

            writer.WriteString("type"u8, "base64"u8);
            writer.WriteString("media_type"u8, mediaType);
            writer.WriteString("data"u8, url.AsSpan(marker + Base64Marker.Length));
        }
        else if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
        {
            writer.WriteString("type"u8, "url"u8);
            writer.WriteString("url"u8, url);
        }
        else
        {
            throw Invalid("an image url must be http(s) or a data: URI", "messages");
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static void WriteToolChoice(Utf8JsonWriter writer, ToolChoice? choice, bool? parallelToolCalls)
    {
        if (choice is null && parallelToolCalls is not false)
        {
            return;
        }

        writer.WriteStartObject("tool_choice"u8);
        switch (choice?.Mode ?? ToolChoiceMode.Auto)
        {
            case ToolChoiceMode.Auto:
                writer.WriteString("type"u8, "auto"u8);
                break;
            case ToolChoiceMode.None:
                writer.WriteString("type"u8, "none"u8);
                break;
            case ToolChoiceMode.Required:
                writer.WriteString("type"u8, "any"u8);
                break;
            case ToolChoiceMode.Function:
                if (string.IsNullOrEmpty(choice!.FunctionName))
                {
                    throw Invalid("tool_choice names no function", "tool_choice");
                }

                writer.WriteString("type"u8, "tool"u8);
                writer.WriteString("name"u8, choice.FunctionName);
                break;
        }

        if (parallelToolCalls is false && choice?.Mode is not ToolChoiceMode.None)
        {
            writer.WriteBoolean("disable_parallel_tool_use"u8, true);
        }

        writer.WriteEndObject();
    }

    private static void WriteRawObject(Utf8JsonWriter writer, string json, string param)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw Invalid($"'{param}' holds JSON that is not an object where Anthropic needs one.", param);
            }

            document.RootElement.WriteTo(writer);
        }
        catch (JsonException)
        {
            throw Invalid($"'{param}' holds invalid JSON where Anthropic needs an object.", param);
        }
    }

    /// <summary>Maps a complete Messages API answer (the SDK's raw JSON) to the canonical response.</summary>
    public static ChatResponse FromAnthropicMessage(IReadOnlyDictionary<string, JsonElement> message, string requestedModel, long created)
    {
        ArgumentNullException.ThrowIfNull(message);
        string? text = null;
        StringBuilder? texts = null;
        var calls = ImmutableArray.CreateBuilder<ToolCall>();
        if (message.TryGetValue("content", out var content) && content.ValueKind == JsonValueKind.Array)
        {
            foreach (var block in content.EnumerateArray())
            {
                switch (GetString(block, "type"))
                {
                    case "text":
                        var blockText = GetString(block, "text") ?? string.Empty;
                        if (text is null)
                        {
                            text = blockText;
                        }
                        else
                        {
                            texts ??= new StringBuilder(text);
                            texts.Append(blockText);
                        }

                        break;
                    case "tool_use":
                        calls.Add(new ToolCall
                        {
                            Id = GetString(block, "id") ?? string.Empty,
                            Name = GetString(block, "name") ?? string.Empty,
                            ArgumentsJson = block.TryGetProperty("input", out var input) && input.ValueKind == JsonValueKind.Object ? input.GetRawText() : "{}",
                        });
                        break;
                }
            }
        }

        text = texts?.ToString() ?? text;
        return new ChatResponse
        {
            Id = GetString(message, "id") ?? string.Empty,
            Model = GetString(message, "model") is { Length: > 0 } model ? model : requestedModel,
            Created = created,
            FinishReason = FromAnthropicStopReason(GetString(message, "stop_reason")),
            Usage = message.TryGetValue("usage", out var usage) ? FromAnthropicUsage(usage, null) : null,
            Message = new ChatMessage
            {
                Role = ChatRole.Assistant,
                Content = text is null ? [] : [ContentPart.FromText(text)],
                ToolCalls = calls.ToImmutable(),
            },
        };
    }

    public static FinishReason FromAnthropicStopReason(string? stopReason) => stopReason switch
    {
        "max_tokens" or "model_context_window_exceeded" => FinishReason.Length,
        "tool_use" => FinishReason.ToolCalls,
        "refusal" => FinishReason.ContentFilter,
        // end_turn, stop_sequence, pause_turn.
        _ => FinishReason.Stop,
    };

    /// <summary>Anthropic's usage; prompt tokens include the cache reads and writes, which are billed as input too.</summary>
    /// <param name="usage">The <c>usage</c> object.</param>
    /// <param name="promptTokensSoFar">For a stream's <c>message_delta</c>: the prompt tokens reported by <c>message_start</c>.</param>
    public static Usage? FromAnthropicUsage(JsonElement usage, int? promptTokensSoFar)
    {
        if (usage.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var hasInput = usage.TryGetProperty("input_tokens", out var input) && input.ValueKind == JsonValueKind.Number;
        var prompt = hasInput
            ? input.GetInt32() + GetInt(usage, "cache_read_input_tokens") + GetInt(usage, "cache_creation_input_tokens")
            : promptTokensSoFar ?? 0;
        return new Usage { PromptTokens = prompt, CompletionTokens = GetInt(usage, "output_tokens"), CachedPromptTokens = GetInt(usage, "cache_read_input_tokens") };
    }

    internal static string? GetString(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    private static string? GetString(IReadOnlyDictionary<string, JsonElement> element, string name) =>
        element.TryGetValue(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static int GetInt(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) ? number : 0;

    private static GatewayException Invalid(string message, string param) => new(GatewayError.InvalidRequest, message, param);
}
