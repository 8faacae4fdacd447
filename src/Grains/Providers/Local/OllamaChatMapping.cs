using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using Gatehouse.Chat;
using Gatehouse.Errors;

namespace Gatehouse.Providers.Local;

/// <summary>Translates between the canonical chat model and Ollama's native <c>/api/chat</c> wire format.</summary>
/// <remarks>
/// Ollama has no tool-call ids, no <c>tool_choice</c> and no image URLs: ids are made up per answer
/// (<c>call_&lt;answer&gt;_&lt;n&gt;</c>) and tool results are matched back to their call by name;
/// <c>tool_choice</c> none drops the tools, required/function is rejected; http(s) images are rejected.
/// </remarks>
internal static class OllamaChatMapping
{
    private const string DataUriPrefix = "data:";
    private const string Base64Marker = ";base64,";

    public static void WriteRequest(Utf8JsonWriter writer, ChatRequest request, bool stream)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrEmpty(request.Model))
        {
            throw Invalid("the request names no model", "model");
        }

        if (request.ToolChoice is { Mode: ToolChoiceMode.Required or ToolChoiceMode.Function })
        {
            throw Invalid("Ollama cannot be made to call a tool: 'tool_choice' may only be 'auto' or 'none' for this model.", "tool_choice");
        }

        writer.WriteStartObject();
        writer.WriteString("model"u8, request.Model);
        writer.WriteBoolean("stream"u8, stream);
        writer.WriteStartArray("messages"u8);
        foreach (var message in request.Messages)
        {
            WriteMessage(writer, message, request.Messages);
        }

        writer.WriteEndArray();

        if (!request.Tools.IsDefaultOrEmpty && request.ToolChoice?.Mode != ToolChoiceMode.None)
        {
            writer.WriteStartArray("tools"u8);
            foreach (var tool in request.Tools)
            {
                writer.WriteStartObject();
                writer.WriteString("type"u8, "function"u8);
                writer.WriteStartObject("function"u8);
                writer.WriteString("name"u8, tool.Name);
                if (tool.Description is not null)
                {
                    writer.WriteString("description"u8, tool.Description);
                }

                writer.WritePropertyName("parameters"u8);
                WriteRawObject(writer, tool.ParametersJson is { Length: > 0 } schema ? schema : """{"type":"object","properties":{}}""", "tools");
                writer.WriteEndObject();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        switch (request.ResponseFormat?.Kind)
        {
            case ResponseFormatKind.JsonObject:
                writer.WriteString("format"u8, "json"u8);
                break;
            case ResponseFormatKind.JsonSchema:
                writer.WritePropertyName("format"u8);
                WriteRawObject(writer, request.ResponseFormat.SchemaJson ?? """{"type":"object"}""", "response_format");
                break;
        }

        writer.WriteStartObject("options"u8);
        WriteOption(writer, "temperature"u8, request.Temperature);
        WriteOption(writer, "top_p"u8, request.TopP);
        WriteOption(writer, "presence_penalty"u8, request.PresencePenalty);
        WriteOption(writer, "frequency_penalty"u8, request.FrequencyPenalty);
        if (request.MaxTokens is { } maxTokens)
        {
            writer.WriteNumber("num_predict"u8, maxTokens);
        }

        if (request.Seed is { } seed)
        {
            writer.WriteNumber("seed"u8, seed);
        }

        if (!request.Stop.IsDefaultOrEmpty)
        {
            writer.WriteStartArray("stop"u8);
            foreach (var stop in request.Stop)
            {
                writer.WriteStringValue(stop);
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    public static ChatResponse FromOllamaResponse(OllamaChatResponse response, string requestedModel, string id, long created)
    {
        ArgumentNullException.ThrowIfNull(response);
        var calls = FromOllamaToolCalls(response.Message?.ToolCalls, id);
        var text = response.Message?.Content;
        return new ChatResponse
        {
            Id = id,
            Model = string.IsNullOrEmpty(response.Model) ? requestedModel : response.Model,
            Created = created,
            FinishReason = FromOllamaDoneReason(response.DoneReason, !calls.IsEmpty),
            Usage = FromOllamaUsage(response),
            Message = new ChatMessage
            {
                Role = ChatRole.Assistant,
                Content = string.IsNullOrEmpty(text) && !calls.IsEmpty ? [] : [ContentPart.FromText(text ?? string.Empty)],
                ToolCalls = calls,
            },
        };
    }

    /// <summary>Ollama sends each tool call whole, in one line; the canonical stream gets it as one delta per call.</summary>
    public static ImmutableArray<ToolCallDelta> FromOllamaToolCallDeltas(List<OllamaToolCall>? calls, string id, int firstIndex)
    {
        var mapped = FromOllamaToolCalls(calls, id, firstIndex);
        return mapped.IsEmpty
            ? []
            : mapped.Select((c, i) => new ToolCallDelta { Index = firstIndex + i, Id = c.Id, Name = c.Name, ArgumentsDelta = c.ArgumentsJson }).ToImmutableArray();
    }

    public static FinishReason FromOllamaDoneReason(string? reason, bool calledTools) => reason switch
    {
        "length" => FinishReason.Length,
        _ when calledTools => FinishReason.ToolCalls,
        _ => FinishReason.Stop,
    };

    public static Usage? FromOllamaUsage(OllamaChatResponse response) =>
        response.PromptEvalCount is null && response.EvalCount is null
            ? null
            : new Usage { PromptTokens = response.PromptEvalCount ?? 0, CompletionTokens = response.EvalCount ?? 0 };

    private static ImmutableArray<ToolCall> FromOllamaToolCalls(List<OllamaToolCall>? calls, string id, int firstIndex = 0)
    {
        if (calls is null or { Count: 0 })
        {
            return [];
        }

        var mapped = ImmutableArray.CreateBuilder<ToolCall>(calls.Count);
        for (var i = 0; i < calls.Count; i++)
        {
            var call = calls[i];
            mapped.Add(new ToolCall
            {
                Id = string.IsNullOrEmpty(call.Id) ? string.Create(CultureInfo.InvariantCulture, $"call_{id}_{firstIndex + i}") : call.Id,
                Name = call.Function?.Name ?? string.Empty,
                ArgumentsJson = call.Function?.Arguments.ValueKind == JsonValueKind.Object ? call.Function.Arguments.GetRawText() : "{}",
            });
        }

        return mapped.MoveToImmutable();
    }

    private static void WriteMessage(Utf8JsonWriter writer, ChatMessage message, ImmutableArray<ChatMessage> conversation)
    {
        writer.WriteStartObject();
        writer.WriteString("role"u8, message.Role switch
        {
            ChatRole.System => "system"u8,
            ChatRole.User => "user"u8,
            ChatRole.Assistant => "assistant"u8,
            ChatRole.Tool => "tool"u8,
            _ => throw Invalid($"unknown message role '{message.Role}'", "messages"),
        });
        writer.WriteString("content"u8, message.Text);

        var images = message.Content.IsDefaultOrEmpty ? [] : message.Content.Where(p => p.Kind == ContentPartKind.ImageUrl).ToList();
        if (images.Count > 0)
        {
            writer.WriteStartArray("images"u8);
            foreach (var image in images)
            {
                writer.WriteStringValue(Base64Of(image.ImageUrl));
            }

            writer.WriteEndArray();
        }

        if (!message.ToolCalls.IsDefaultOrEmpty)
        {
            writer.WriteStartArray("tool_calls"u8);
            foreach (var call in message.ToolCalls)
            {
                writer.WriteStartObject();
                writer.WriteStartObject("function"u8);
                writer.WriteString("name"u8, call.Name);
                writer.WritePropertyName("arguments"u8);
                WriteRawObject(writer, string.IsNullOrWhiteSpace(call.ArgumentsJson) ? "{}" : call.ArgumentsJson, "messages");
                writer.WriteEndObject();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        if (message.Role == ChatRole.Tool && ToolNameOf(message.ToolCallId, conversation) is { } toolName)
        {
            // Ollama has no call ids: it ties a result to its call by the tool's name.
            writer.WriteString("tool_name"u8, toolName);
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
            foreach (var call in message.ToolCalls)
            {
                if (call.Id == toolCallId)
                {
                    return call.Name;
                }
            }
        }

        return null;
    }

    private static string Base64Of(string? url)
    {
        if (url is null || !url.StartsWith(DataUriPrefix, StringComparison.OrdinalIgnoreCase))
        {
            throw Invalid("Ollama accepts only inline images (data: URIs), not image URLs.", "messages");
        }

        var marker = url.IndexOf(Base64Marker, StringComparison.OrdinalIgnoreCase);
        return marker >= 0 ? url[(marker + Base64Marker.Length)..] : throw Invalid("an image data: URI must be base64-encoded", "messages");
    }

    private static void WriteOption(Utf8JsonWriter writer, ReadOnlySpan<byte> name, double? value)
    {
        if (value is { } number)
        {
            writer.WriteNumber(name, number);
        }
    }

    private static void WriteRawObject(Utf8JsonWriter writer, string json, string param)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw Invalid($"'{param}' holds JSON that is not an object where Ollama needs one.", param);
            }

            document.RootElement.WriteTo(writer);
        }
        catch (JsonException)
        {
            throw Invalid($"'{param}' holds invalid JSON where Ollama needs an object.", param);
        }
    }

    private static GatewayException Invalid(string message, string param) => new(GatewayError.InvalidRequest, message, param);
}
