using System.Text.Json;
using Gatehouse.Chat;

namespace Gatehouse.Silo.Http.OpenAI;

/// <summary>Writes canonical answers in OpenAI's Chat Completions wire format, straight to a <see cref="Utf8JsonWriter"/>.</summary>
internal static class OpenAIResponseWriter
{
    public static void WriteCompletion(Utf8JsonWriter writer, ChatResponse response)
    {
        writer.WriteStartObject();
        writer.WriteString("id"u8, response.Id);
        writer.WriteString("object"u8, "chat.completion"u8);
        writer.WriteNumber("created"u8, response.Created);
        writer.WriteString("model"u8, response.Model);
        writer.WriteStartArray("choices"u8);
        writer.WriteStartObject();
        writer.WriteNumber("index"u8, 0);
        writer.WriteStartObject("message"u8);
        writer.WriteString("role"u8, "assistant"u8);
        var message = response.Message;
        if (message.Content.IsEmpty && !message.ToolCalls.IsEmpty)
        {
            writer.WriteNull("content"u8);
        }
        else
        {
            writer.WriteString("content"u8, message.Text);
        }

        if (!message.ToolCalls.IsEmpty)
        {
            writer.WriteStartArray("tool_calls"u8);
            foreach (var call in message.ToolCalls)
            {
                writer.WriteStartObject();
                writer.WriteString("id"u8, call.Id);
                writer.WriteString("type"u8, "function"u8);
                writer.WriteStartObject("function"u8);
                writer.WriteString("name"u8, call.Name);
                writer.WriteString("arguments"u8, call.ArgumentsJson);
                writer.WriteEndObject();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        writer.WriteNull("refusal"u8);
        writer.WriteEndObject();
        writer.WriteNull("logprobs"u8);
        writer.WriteString("finish_reason"u8, FinishReasonName(response.FinishReason));
        writer.WriteEndObject();
        writer.WriteEndArray();
        if (response.Usage is { } usage)
        {
            WriteUsage(writer, usage);
        }

        WriteFingerprint(writer, response.SystemFingerprint);
        writer.WriteEndObject();
    }

    /// <summary>One <c>chat.completion.chunk</c>; a usage-only chunk has an empty <c>choices</c> array, as OpenAI sends it.</summary>
    public static void WriteChunk(Utf8JsonWriter writer, ChatChunk chunk)
    {
        writer.WriteStartObject();
        writer.WriteString("id"u8, chunk.Id);
        writer.WriteString("object"u8, "chat.completion.chunk"u8);
        writer.WriteNumber("created"u8, chunk.Created);
        writer.WriteString("model"u8, chunk.Model);
        WriteFingerprint(writer, chunk.SystemFingerprint);
        writer.WriteStartArray("choices"u8);
        var usageOnly = chunk is { Usage: not null, TextDelta: null, Role: null, FinishReason: null } && chunk.ToolCallDeltas.IsEmpty;
        if (!usageOnly)
        {
            writer.WriteStartObject();
            writer.WriteNumber("index"u8, 0);
            writer.WriteStartObject("delta"u8);
            if (chunk.Role is not null)
            {
                writer.WriteString("role"u8, "assistant"u8);
            }

            if (chunk.TextDelta is not null)
            {
                writer.WriteString("content"u8, chunk.TextDelta);
            }

            if (!chunk.ToolCallDeltas.IsEmpty)
            {
                writer.WriteStartArray("tool_calls"u8);
                foreach (var delta in chunk.ToolCallDeltas)
                {
                    writer.WriteStartObject();
                    writer.WriteNumber("index"u8, delta.Index);
                    if (delta.Id is not null)
                    {
                        writer.WriteString("id"u8, delta.Id);
                        writer.WriteString("type"u8, "function"u8);
                    }

                    writer.WriteStartObject("function"u8);
                    if (delta.Name is not null)
                    {
                        writer.WriteString("name"u8, delta.Name);
                    }

                    writer.WriteString("arguments"u8, delta.ArgumentsDelta ?? string.Empty);
                    writer.WriteEndObject();
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
            writer.WriteNull("logprobs"u8);
            if (chunk.FinishReason is { } finish)
            {
                writer.WriteString("finish_reason"u8, FinishReasonName(finish));
            }
            else
            {
                writer.WriteNull("finish_reason"u8);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        if (chunk.Usage is { } usage)
        {
            WriteUsage(writer, usage);
        }

        writer.WriteEndObject();
    }

    public static void WriteModels(Utf8JsonWriter writer, IReadOnlyList<string> aliases, long created)
    {
        writer.WriteStartObject();
        writer.WriteString("object"u8, "list"u8);
        writer.WriteStartArray("data"u8);
        foreach (var alias in aliases)
        {
            writer.WriteStartObject();
            writer.WriteString("id"u8, alias);
            writer.WriteString("object"u8, "model"u8);
            writer.WriteNumber("created"u8, created);
            writer.WriteString("owned_by"u8, "gatehouse"u8);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteUsage(Utf8JsonWriter writer, Usage usage)
    {
        writer.WriteStartObject("usage"u8);
        writer.WriteNumber("prompt_tokens"u8, usage.PromptTokens);
        writer.WriteNumber("completion_tokens"u8, usage.CompletionTokens);
        writer.WriteNumber("total_tokens"u8, usage.TotalTokens);
        writer.WriteEndObject();
    }

    private static void WriteFingerprint(Utf8JsonWriter writer, string? fingerprint)
    {
        if (fingerprint is null)
        {
            writer.WriteNull("system_fingerprint"u8);
        }
        else
        {
            writer.WriteString("system_fingerprint"u8, fingerprint);
        }
    }

    private static string FinishReasonName(FinishReason reason) => reason switch
    {
        FinishReason.Length => "length",
        FinishReason.ToolCalls => "tool_calls",
        FinishReason.ContentFilter => "content_filter",
        _ => "stop",
    };
}
