using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Gatehouse.Chat;
using Gatehouse.Errors;

namespace Gatehouse.Providers.Gemini;

/// <summary>Translates between the canonical chat model and Gemini's <c>generateContent</c> wire format.</summary>
/// <remarks>
/// System messages become <c>systemInstruction</c>, assistant turns role <c>model</c>, and tool results <c>user</c>
/// turns of <c>functionResponse</c> parts (consecutive results in one turn, as Gemini pairs them with the calls of the
/// turn before). Gemini usually gives calls no ids: ids are made up per answer (<c>call_&lt;answer&gt;_&lt;n&gt;</c>)
/// and a result is tied back to its call's name through the conversation. Tool and output schemas go out as JSON
/// Schema (<c>parametersJsonSchema</c>, <c>responseJsonSchema</c>), which v1beta accepts, rather than converted to the
/// OpenAPI subset of <c>parameters</c>/<c>responseSchema</c>; only <c>$schema</c> is dropped.
/// </remarks>
internal static class GeminiChatMapping
{
    private const string DataUriPrefix = "data:";
    private const string Base64Marker = ";base64,";

    public static void WriteRequest(Utf8JsonWriter writer, ChatRequest request)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(request);
        if (request.ToolChoice is { Mode: ToolChoiceMode.Function, FunctionName: null or "" })
        {
            throw Invalid("tool_choice names no function", "tool_choice");
        }

        writer.WriteStartObject();
        WriteSystemInstruction(writer, request.Messages);
        writer.WriteStartArray("contents"u8);
        var pendingResults = false;
        foreach (var message in request.Messages)
        {
            switch (message.Role)
            {
                case ChatRole.System:
                    continue;
                case ChatRole.Tool:
                    if (!pendingResults)
                    {
                        writer.WriteStartObject();
                        writer.WriteString("role"u8, "user"u8);
                        writer.WriteStartArray("parts"u8);
                        pendingResults = true;
                    }

                    WriteFunctionResponse(writer, message, request.Messages);
                    continue;
            }

            if (pendingResults)
            {
                EndContent(writer);
                pendingResults = false;
            }

            writer.WriteStartObject();
            writer.WriteString("role"u8, message.Role switch
            {
                ChatRole.User => "user"u8,
                ChatRole.Assistant => "model"u8,
                _ => throw Invalid($"unknown message role '{message.Role}'", "messages"),
            });
            writer.WriteStartArray("parts"u8);
            WriteParts(writer, message);
            EndContent(writer);
        }

        if (pendingResults)
        {
            EndContent(writer);
        }

        writer.WriteEndArray();

        if (!request.Tools.IsDefaultOrEmpty)
        {
            WriteTools(writer, request.Tools, request.ToolChoice);
        }

        WriteGenerationConfig(writer, request);
        writer.WriteEndObject();
    }

    /// <summary>Maps a complete answer; a blocked prompt and a malformed function call are failures, not answers.</summary>
    /// <exception cref="GatewayException">The prompt was blocked, or the model produced a malformed function call.</exception>
    public static ChatResponse FromGeminiResponse(GeminiResponse response, string providerName, string requestedModel, string id, long created)
    {
        ArgumentNullException.ThrowIfNull(response);
        ThrowIfPromptBlocked(response, providerName);
        var candidate = FirstCandidate(response);
        ThrowIfMalformedCall(candidate?.FinishReason, providerName);
        var answerId = string.IsNullOrEmpty(response.ResponseId) ? id : response.ResponseId;
        var text = new StringBuilder();
        var calls = ImmutableArray.CreateBuilder<ToolCall>();
        foreach (var part in candidate?.Content?.Parts ?? [])
        {
            if (part.Thought is true)
            {
                continue;
            }

            if (part.Text is { } partText)
            {
                text.Append(partText);
            }

            if (part.FunctionCall is { } call)
            {
                calls.Add(ToToolCall(call, answerId, calls.Count));
            }
        }

        return new ChatResponse
        {
            Id = answerId,
            Model = string.IsNullOrEmpty(response.ModelVersion) ? requestedModel : response.ModelVersion,
            Created = created,
            FinishReason = FromGeminiFinishReason(candidate?.FinishReason, calls.Count > 0),
            Usage = FromGeminiUsage(response.UsageMetadata),
            Message = new ChatMessage
            {
                Role = ChatRole.Assistant,
                Content = text.Length == 0 && calls.Count > 0 ? [] : [ContentPart.FromText(text.ToString())],
                ToolCalls = calls.ToImmutable(),
            },
        };
    }

    public static GeminiCandidate? FirstCandidate(GeminiResponse response) =>
        response.Candidates is { Count: > 0 } candidates ? candidates.FirstOrDefault(c => c.Index is null or 0) ?? candidates[0] : null;

    public static ToolCall ToToolCall(GeminiFunctionCall call, string answerId, int index) => new()
    {
        Id = string.IsNullOrEmpty(call.Id) ? string.Create(CultureInfo.InvariantCulture, $"call_{answerId}_{index}") : call.Id,
        Name = call.Name ?? string.Empty,
        ArgumentsJson = call.Args.ValueKind == JsonValueKind.Object ? call.Args.GetRawText() : "{}",
    };

    public static FinishReason FromGeminiFinishReason(string? reason, bool calledTools) => reason switch
    {
        "MAX_TOKENS" => FinishReason.Length,
        _ when IsFiltered(reason) => FinishReason.ContentFilter,
        _ when calledTools => FinishReason.ToolCalls,
        // STOP, OTHER, FINISH_REASON_UNSPECIFIED and reasons added after this adapter was written.
        _ => FinishReason.Stop,
    };

    /// <summary>Whether Gemini stopped the answer for its content (a safety, recitation or policy filter).</summary>
    public static bool IsFiltered(string? reason) => reason is
        "SAFETY" or "RECITATION" or "BLOCKLIST" or "PROHIBITED_CONTENT" or "SPII" or "IMAGE_SAFETY" or "IMAGE_PROHIBITED_CONTENT" or "IMAGE_RECITATION";

    /// <summary>Gemini's usage; thinking tokens are billed as output, so they count as completion tokens.</summary>
    public static Usage? FromGeminiUsage(GeminiUsage? usage) =>
        usage is null
            ? null
            : new Usage
            {
                PromptTokens = usage.PromptTokenCount ?? 0,
                CompletionTokens = (usage.CandidatesTokenCount ?? 0) + (usage.ThoughtsTokenCount ?? 0),
                CachedPromptTokens = usage.CachedContentTokenCount ?? 0,
            };

    /// <summary>
    /// A prompt Gemini refused to answer at all (<c>promptFeedback.blockReason</c>, no candidates) is the caller's
    /// request rejected for its content: an invalid request naming the reason, as OpenAI answers a flagged prompt with a
    /// 400, not an empty answer that could be cached.
    /// </summary>
    public static void ThrowIfPromptBlocked(GeminiResponse response, string providerName)
    {
        if (response.PromptFeedback?.BlockReason is { Length: > 0 } reason && FirstCandidate(response) is null)
        {
            throw new GatewayException(
                GatewayError.InvalidRequest,
                $"provider '{providerName}' blocked the prompt for its content (promptFeedback.blockReason {SafeToken(reason)})",
                param: "messages");
        }
    }

    /// <summary>The model tried to call a function and produced no valid call: no answer, and another target may do better.</summary>
    public static void ThrowIfMalformedCall(string? finishReason, string providerName)
    {
        if (finishReason == "MALFORMED_FUNCTION_CALL")
        {
            throw new GatewayException(
                GatewayError.UpstreamFailed, $"provider '{providerName}' ended the answer with a malformed function call (finishReason MALFORMED_FUNCTION_CALL)");
        }
    }

    /// <summary>An upstream enum value fit for a message: letters, digits and underscores only.</summary>
    public static string SafeToken(string value) =>
        value.Length <= 64 && value.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') ? value : "(unknown)";

    private static void EndContent(Utf8JsonWriter writer)
    {
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteSystemInstruction(Utf8JsonWriter writer, ImmutableArray<ChatMessage> messages)
    {
        var started = false;
        foreach (var message in messages)
        {
            if (message.Role != ChatRole.System)
            {
                continue;
            }

            if (!started)
            {
                writer.WriteStartObject("systemInstruction"u8);
                writer.WriteStartArray("parts"u8);
                started = true;
            }

            writer.WriteStartObject();
            writer.WriteString("text"u8, message.Text);
            writer.WriteEndObject();
        }

        if (started)
        {
            EndContent(writer);
        }
    }

    private static void WriteParts(Utf8JsonWriter writer, ChatMessage message)
    {
        var written = 0;
        foreach (var part in message.Content.IsDefault ? [] : message.Content)
        {
            switch (part.Kind)
            {
                case ContentPartKind.Text:
                    if (string.IsNullOrEmpty(part.Text))
                    {
                        continue;
                    }

                    writer.WriteStartObject();
                    writer.WriteString("text"u8, part.Text);
                    writer.WriteEndObject();
                    break;
                case ContentPartKind.ImageUrl:
                    WriteImage(writer, part.ImageUrl);
                    break;
                default:
                    throw Invalid($"unknown content part '{part.Kind}'", "messages");
            }

            written++;
        }

        foreach (var call in message.ToolCalls.IsDefault ? [] : message.ToolCalls)
        {
            writer.WriteStartObject();
            writer.WriteStartObject("functionCall"u8);
            writer.WriteString("name"u8, call.Name);
            writer.WritePropertyName("args"u8);
            WriteRawObject(writer, string.IsNullOrWhiteSpace(call.ArgumentsJson) ? "{}" : call.ArgumentsJson, "messages", dropSchemaKeyword: false);
            writer.WriteEndObject();
            writer.WriteEndObject();
            written++;
        }

        if (written == 0)
        {
            // Gemini rejects a turn without parts; an empty turn is still a turn of the conversation.
            writer.WriteStartObject();
            writer.WriteString("text"u8, ""u8);
            writer.WriteEndObject();
        }
    }

    private static void WriteFunctionResponse(Utf8JsonWriter writer, ChatMessage message, ImmutableArray<ChatMessage> conversation)
    {
        var name = ToolNameOf(message.ToolCallId, conversation) ?? message.Name;
        if (string.IsNullOrEmpty(name))
        {
            throw Invalid("a tool message answers no tool call of the conversation: Gemini needs the called function's name", "messages");
        }

        writer.WriteStartObject();
        writer.WriteStartObject("functionResponse"u8);
        writer.WriteString("name"u8, name);
        writer.WritePropertyName("response"u8);
        var text = message.Text;
        if (IsJsonObject(text))
        {
            WriteRawObject(writer, text, "messages", dropSchemaKeyword: false);
        }
        else
        {
            // Gemini wants an object; "output" is the key it documents for a function's plain result.
            writer.WriteStartObject();
            writer.WriteString("output"u8, text);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static void WriteImage(Utf8JsonWriter writer, string? url)
    {
        if (string.IsNullOrEmpty(url))
        {
            throw Invalid("an image part has no url", "messages");
        }

        writer.WriteStartObject();
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
                throw Invalid("an image data: URI must name its media type (image/png, image/jpeg, image/webp, image/heic or image/heif)", "messages");
            }

            writer.WriteStartObject("inlineData"u8);
            writer.WriteString("mimeType"u8, mediaType);
            writer.WriteString("data"u8, url.AsSpan(marker + Base64Marker.Length));
            writer.WriteEndObject();
        }
        else if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
        {
            // Gemini reads files by URI (its Files API, or a URL it can fetch); what it cannot read it rejects as a 400.
            writer.WriteStartObject("fileData"u8);
            if (MediaTypeOf(uri) is { } mediaType)
            {
                writer.WriteString("mimeType"u8, mediaType);
            }

            writer.WriteString("fileUri"u8, url);
            writer.WriteEndObject();
        }
        else
        {
            throw Invalid("an image url must be http(s) or a data: URI", "messages");
        }

        writer.WriteEndObject();
    }

    private static string? MediaTypeOf(Uri uri) => Path.GetExtension(uri.AbsolutePath).ToLowerInvariant() switch
    {
        ".png" => "image/png",
        ".jpg" or ".jpeg" => "image/jpeg",
        ".webp" => "image/webp",
        ".gif" => "image/gif",
        ".heic" => "image/heic",
        ".heif" => "image/heif",
        _ => null,
    };

    private static void WriteTools(Utf8JsonWriter writer, ImmutableArray<ToolDefinition> tools, ToolChoice? choice)
    {
        writer.WriteStartArray("tools"u8);
        writer.WriteStartObject();
        writer.WriteStartArray("functionDeclarations"u8);
        foreach (var tool in tools)
        {
            writer.WriteStartObject();
            writer.WriteString("name"u8, tool.Name);
            if (tool.Description is not null)
            {
                writer.WriteString("description"u8, tool.Description);
            }

            if (tool.ParametersJson is { Length: > 0 } schema)
            {
                writer.WritePropertyName("parametersJsonSchema"u8);
                WriteRawObject(writer, schema, "tools", dropSchemaKeyword: true);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.WriteEndArray();

        if (choice is null)
        {
            return;
        }

        writer.WriteStartObject("toolConfig"u8);
        writer.WriteStartObject("functionCallingConfig"u8);
        writer.WriteString("mode"u8, choice.Mode switch
        {
            ToolChoiceMode.None => "NONE"u8,
            ToolChoiceMode.Required or ToolChoiceMode.Function => "ANY"u8,
            _ => "AUTO"u8,
        });
        if (choice.Mode == ToolChoiceMode.Function)
        {
            if (!tools.Any(t => t.Name == choice.FunctionName))
            {
                throw Invalid($"tool_choice names function '{choice.FunctionName}', which is not among the request's tools", "tool_choice");
            }

            writer.WriteStartArray("allowedFunctionNames"u8);
            writer.WriteStringValue(choice.FunctionName);
            writer.WriteEndArray();
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static void WriteGenerationConfig(Utf8JsonWriter writer, ChatRequest request)
    {
        var format = request.ResponseFormat?.Kind ?? ResponseFormatKind.Text;
        if (request.Temperature is null && request.TopP is null && request.MaxTokens is null && request.Stop.IsDefaultOrEmpty && request.Seed is null
            && request.PresencePenalty is null && request.FrequencyPenalty is null && format == ResponseFormatKind.Text)
        {
            return;
        }

        writer.WriteStartObject("generationConfig"u8);
        WriteNumber(writer, "temperature"u8, request.Temperature);
        WriteNumber(writer, "topP"u8, request.TopP);
        if (request.MaxTokens is { } maxTokens)
        {
            writer.WriteNumber("maxOutputTokens"u8, maxTokens);
        }

        if (!request.Stop.IsDefaultOrEmpty)
        {
            writer.WriteStartArray("stopSequences"u8);
            foreach (var stop in request.Stop)
            {
                writer.WriteStringValue(stop);
            }

            writer.WriteEndArray();
        }

        if (request.Seed is { } seed)
        {
            // Gemini's seed is an int32; a larger one is folded into range rather than rejected.
            writer.WriteNumber("seed"u8, unchecked((int)seed));
        }

        WriteNumber(writer, "presencePenalty"u8, request.PresencePenalty);
        WriteNumber(writer, "frequencyPenalty"u8, request.FrequencyPenalty);
        if (format != ResponseFormatKind.Text)
        {
            writer.WriteString("responseMimeType"u8, "application/json"u8);
        }

        if (format == ResponseFormatKind.JsonSchema && request.ResponseFormat!.SchemaJson is { Length: > 0 } schema)
        {
            writer.WritePropertyName("responseJsonSchema"u8);
            WriteRawObject(writer, schema, "response_format", dropSchemaKeyword: true);
        }

        writer.WriteEndObject();
    }

    private static string? ToolNameOf(string? toolCallId, ImmutableArray<ChatMessage> conversation)
    {
        if (toolCallId is null)
        {
            return null;
        }

        foreach (var message in conversation)
        {
            foreach (var call in message.ToolCalls.IsDefault ? [] : message.ToolCalls)
            {
                if (call.Id == toolCallId)
                {
                    return call.Name;
                }
            }
        }

        return null;
    }

    private static void WriteNumber(Utf8JsonWriter writer, ReadOnlySpan<byte> name, double? value)
    {
        if (value is { } number)
        {
            writer.WriteNumber(name, number);
        }
    }

    private static bool IsJsonObject(string text)
    {
        if (text.Length == 0 || text.TrimStart() is not ['{', ..])
        {
            return false;
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static void WriteRawObject(Utf8JsonWriter writer, string json, string param, bool dropSchemaKeyword)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Invalid($"'{param}' holds JSON that is not an object where Gemini needs one.", param);
            }

            if (!dropSchemaKeyword || !root.TryGetProperty("$schema", out _))
            {
                root.WriteTo(writer);
                return;
            }

            // Gemini's JSON Schema subset refuses the meta-schema keyword that schema generators add.
            writer.WriteStartObject();
            foreach (var property in root.EnumerateObject())
            {
                if (property.Name != "$schema")
                {
                    property.WriteTo(writer);
                }
            }

            writer.WriteEndObject();
        }
        catch (JsonException)
        {
            throw Invalid($"'{param}' holds invalid JSON where Gemini needs an object.", param);
        }
    }

    private static GatewayException Invalid(string message, string param) => new(GatewayError.InvalidRequest, message, param);
}
