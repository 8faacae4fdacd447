using System.Text.Json;
using Gatehouse.Chat;
using Gatehouse.Errors;

namespace Gatehouse.Silo.Http.Anthropic;

/// <summary>Writes canonical answers in Anthropic's Messages API wire format, straight to a <see cref="Utf8JsonWriter"/>.</summary>
internal static class AnthropicResponseWriter
{
    public static void WriteMessage(Utf8JsonWriter writer, ChatResponse response)
    {
        writer.WriteStartObject();
        writer.WriteString("id"u8, response.Id);
        writer.WriteString("type"u8, "message"u8);
        writer.WriteString("role"u8, "assistant"u8);
        writer.WriteString("model"u8, response.Model);
        writer.WriteStartArray("content"u8);
        var message = response.Message;
        var text = message.Text;
        if (text.Length > 0 || message.ToolCalls.IsEmpty)
        {
            writer.WriteStartObject();
            writer.WriteString("type"u8, "text"u8);
            writer.WriteString("text"u8, text);
            writer.WriteEndObject();
        }

        foreach (var call in message.ToolCalls)
        {
            writer.WriteStartObject();
            writer.WriteString("type"u8, "tool_use"u8);
            writer.WriteString("id"u8, call.Id);
            writer.WriteString("name"u8, call.Name);
            writer.WritePropertyName("input"u8);
            WriteToolInput(writer, call.ArgumentsJson);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteString("stop_reason"u8, StopReason(response.FinishReason));
        writer.WriteNull("stop_sequence"u8);
        WriteUsage(writer, response.Usage?.PromptTokens ?? 0, response.Usage?.CompletionTokens ?? 0);
        writer.WriteEndObject();
    }

    /// <summary>Anthropic's envelope: <c>{"type":"error","error":{"type","message"}}</c>.</summary>
    public static void WriteError(Utf8JsonWriter writer, GatewayException error)
    {
        writer.WriteStartObject();
        writer.WriteString("type"u8, "error"u8);
        writer.WriteStartObject("error"u8);
        writer.WriteString("type"u8, ErrorType(error.Error));
        writer.WriteString("message"u8, error.Message);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    public static string ErrorType(GatewayError error) => error switch
    {
        GatewayError.InvalidRequest or GatewayError.ContextLengthExceeded => "invalid_request_error",
        GatewayError.Unauthenticated => "authentication_error",
        GatewayError.ModelNotAllowed => "permission_error",
        GatewayError.ModelNotFound => "not_found_error",
        GatewayError.PayloadTooLarge => "request_too_large",
        GatewayError.RateLimited or GatewayError.BudgetExhausted => "rate_limit_error",
        GatewayError.NoTargetAvailable => "overloaded_error",
        _ => "api_error",
    };

    public static string StopReason(FinishReason reason) => reason switch
    {
        FinishReason.Length => "max_tokens",
        FinishReason.ToolCalls => "tool_use",
        FinishReason.ContentFilter => "refusal",
        _ => "end_turn",
    };

    internal static void WriteUsage(Utf8JsonWriter writer, int inputTokens, int outputTokens)
    {
        writer.WriteStartObject("usage"u8);
        writer.WriteNumber("input_tokens"u8, inputTokens);
        writer.WriteNumber("output_tokens"u8, outputTokens);
        writer.WriteEndObject();
    }

    /// <summary>Tool arguments are the model's JSON text; an upstream that produced invalid JSON still yields an object.</summary>
    private static void WriteToolInput(Utf8JsonWriter writer, string argumentsJson)
    {
        if (!string.IsNullOrWhiteSpace(argumentsJson))
        {
            try
            {
                using var document = JsonDocument.Parse(argumentsJson);
                if (document.RootElement.ValueKind == JsonValueKind.Object)
                {
                    document.RootElement.WriteTo(writer);
                    return;
                }
            }
            catch (JsonException)
            {
                // Fall through to an empty input: Anthropic clients expect an object here.
            }
        }

        writer.WriteStartObject();
        writer.WriteEndObject();
    }
}
