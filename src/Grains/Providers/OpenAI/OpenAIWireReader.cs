using System.Collections.Immutable;
using System.Text.Json;
using Gatehouse.Chat;

namespace Gatehouse.Providers.OpenAI;

/// <summary>
/// Reads OpenAI Chat Completions answers (a whole completion, or one <c>data:</c> payload of a stream) straight from
/// UTF-8 with <see cref="Utf8JsonReader"/> into the canonical <see cref="ChatResponse"/> and <see cref="ChatChunk"/>.
/// </summary>
/// <remarks>Unknown properties are skipped; only the first choice is read (the gateway never asks for more).</remarks>
internal static class OpenAIWireReader
{
    /// <summary>Reads a non-streaming completion.</summary>
    /// <param name="json">The response body.</param>
    /// <param name="requestedModel">The model to report when the upstream names none.</param>
    /// <returns>The completion; null when the body is an error envelope instead (<c>{"error":…}</c>).</returns>
    /// <exception cref="JsonException">The body is neither a completion nor an error.</exception>
    public static ChatResponse? ReadCompletion(ReadOnlySpan<byte> json, string requestedModel)
    {
        var reader = new Utf8JsonReader(json);
        var envelope = ReadEnvelope(ref reader, delta: false);
        if (envelope.HasError)
        {
            return null;
        }

        // A body without a choice is no answer; read as one it would be an empty success.
        if (!envelope.HasChoice)
        {
            throw new JsonException("the completion has no choice");
        }

        var choice = envelope.Choice;
        // A refusal arrives instead of content; the canonical model has no refusal field, and an empty answer would
        // hide why the model declined.
        var text = choice.Content ?? NullIfEmpty(choice.Refusal);
        return new ChatResponse
        {
            Id = envelope.Id ?? string.Empty,
            Model = string.IsNullOrEmpty(envelope.Model) ? requestedModel : envelope.Model,
            Created = envelope.Created,
            SystemFingerprint = envelope.SystemFingerprint,
            FinishReason = choice.FinishReason ?? FinishReason.Stop,
            Usage = envelope.Usage,
            Message = new ChatMessage
            {
                Role = ChatRole.Assistant,
                Content = text is null ? [] : [ContentPart.FromText(text)],
                ToolCalls = choice.ToolCalls?.ToImmutable() ?? [],
            },
        };
    }

    /// <summary>
    /// Reads one stream payload (the JSON after <c>data:</c>, not <c>[DONE]</c>) into a chunk without usage and, when
    /// the payload reports usage, a usage-only chunk (the canonical stream carries usage apart, even when a server puts
    /// it on the finish chunk). <see cref="StreamEvent.Chunk"/> is null when the payload carries nothing else, such as
    /// OpenAI's usage-only final chunk or an empty keep-alive delta; <see cref="StreamEvent.ErrorJson"/> is set instead
    /// of both when the payload is an error.
    /// </summary>
    /// <exception cref="JsonException">The payload is not a chunk.</exception>
    public static StreamEvent ReadStreamEvent(ReadOnlySpan<byte> json, string requestedModel)
    {
        var reader = new Utf8JsonReader(json);
        var envelope = ReadEnvelope(ref reader, delta: true);
        if (envelope.HasError)
        {
            return new StreamEvent(null, null, System.Text.Encoding.UTF8.GetString(json));
        }

        var model = string.IsNullOrEmpty(envelope.Model) ? requestedModel : envelope.Model;
        var id = envelope.Id ?? string.Empty;
        var choice = envelope.Choice;
        var text = NullIfEmpty(choice.Content) ?? NullIfEmpty(choice.Refusal);
        ChatChunk? chunk = null;
        if (choice.Role is not null || choice.FinishReason is not null || choice.ToolCallDeltas is not null || text is not null)
        {
            chunk = new ChatChunk
            {
                Id = id,
                Model = model,
                Created = envelope.Created,
                SystemFingerprint = envelope.SystemFingerprint,
                Role = choice.Role,
                TextDelta = text,
                ToolCallDeltas = choice.ToolCallDeltas?.ToImmutable() ?? [],
                FinishReason = choice.FinishReason,
            };
        }

        var usageChunk = envelope.Usage is { } usage
            ? new ChatChunk { Id = id, Model = model, Created = envelope.Created, SystemFingerprint = envelope.SystemFingerprint, Usage = usage }
            : null;
        return new StreamEvent(chunk, usageChunk, null);
    }

    /// <summary>What one stream payload says: a chunk, a usage chunk, an error (the payload's JSON, verbatim), or the end.</summary>
    public readonly record struct StreamEvent(ChatChunk? Chunk, ChatChunk? UsageChunk, string? ErrorJson, bool IsDone = false)
    {
        /// <summary>The <c>[DONE]</c> sentinel that closes an OpenAI stream.</summary>
        public static StreamEvent Done { get; } = new(null, null, null, IsDone: true);
    }

    private static Envelope ReadEnvelope(ref Utf8JsonReader reader, bool delta)
    {
        Expect(ref reader, JsonTokenType.StartObject);
        var envelope = default(Envelope);
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("id"u8))
            {
                envelope.Id = ReadString(ref reader);
            }
            else if (reader.ValueTextEquals("model"u8))
            {
                envelope.Model = ReadString(ref reader);
            }
            else if (reader.ValueTextEquals("created"u8))
            {
                Next(ref reader);
                envelope.Created = reader.TokenType == JsonTokenType.Number ? reader.GetInt64() : 0;
            }
            else if (reader.ValueTextEquals("system_fingerprint"u8))
            {
                envelope.SystemFingerprint = ReadString(ref reader);
            }
            else if (reader.ValueTextEquals("choices"u8))
            {
                envelope.Choice = ReadFirstChoice(ref reader, delta, out envelope.HasChoice);
            }
            else if (reader.ValueTextEquals("usage"u8))
            {
                envelope.Usage = ReadUsage(ref reader);
            }
            else if (reader.ValueTextEquals("error"u8))
            {
                Next(ref reader);
                envelope.HasError = reader.TokenType != JsonTokenType.Null;
                reader.Skip();
            }
            else
            {
                SkipValue(ref reader);
            }
        }

        return envelope;
    }

    private static Choice ReadFirstChoice(ref Utf8JsonReader reader, bool delta, out bool found)
    {
        var choice = default(Choice);
        found = false;
        if (Next(ref reader) == JsonTokenType.Null)
        {
            return choice;
        }

        Expect(reader.TokenType, JsonTokenType.StartArray);
        while (Next(ref reader) != JsonTokenType.EndArray)
        {
            if (found)
            {
                reader.Skip();
                continue;
            }

            found = true;
            Expect(reader.TokenType, JsonTokenType.StartObject);
            while (Next(ref reader) == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals(delta ? "delta"u8 : "message"u8))
                {
                    ReadMessage(ref reader, ref choice, delta);
                }
                else if (reader.ValueTextEquals("finish_reason"u8))
                {
                    choice.FinishReason = ReadString(ref reader) is { } reason ? ToFinishReason(reason) : null;
                }
                else
                {
                    SkipValue(ref reader);
                }
            }
        }

        return choice;
    }

    private static void ReadMessage(ref Utf8JsonReader reader, ref Choice choice, bool delta)
    {
        if (Next(ref reader) == JsonTokenType.Null)
        {
            return;
        }

        Expect(reader.TokenType, JsonTokenType.StartObject);
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("content"u8))
            {
                choice.Content = ReadContent(ref reader);
            }
            else if (reader.ValueTextEquals("refusal"u8))
            {
                choice.Refusal = ReadString(ref reader);
            }
            else if (reader.ValueTextEquals("role"u8))
            {
                choice.Role = ReadString(ref reader) is { } role ? ToRole(role) : null;
            }
            else if (reader.ValueTextEquals("tool_calls"u8))
            {
                if (delta)
                {
                    choice.ToolCallDeltas = ReadToolCalls(ref reader, ToDelta);
                }
                else
                {
                    choice.ToolCalls = ReadToolCalls(ref reader, ToCall);
                }
            }
            else
            {
                SkipValue(ref reader);
            }
        }
    }

    /// <summary>Content as a string, or as an array of parts (some compatible servers) whose text parts are joined.</summary>
    private static string? ReadContent(ref Utf8JsonReader reader)
    {
        switch (Next(ref reader))
        {
            case JsonTokenType.String:
                return reader.GetString();
            case JsonTokenType.StartArray:
                string? text = null;
                while (Next(ref reader) != JsonTokenType.EndArray)
                {
                    Expect(reader.TokenType, JsonTokenType.StartObject);
                    while (Next(ref reader) == JsonTokenType.PropertyName)
                    {
                        if (reader.ValueTextEquals("text"u8))
                        {
                            text = string.Concat(text, ReadString(ref reader));
                        }
                        else
                        {
                            SkipValue(ref reader);
                        }
                    }
                }

                return text;
            default:
                reader.Skip();
                return null;
        }
    }

    private static ImmutableArray<T>.Builder? ReadToolCalls<T>(ref Utf8JsonReader reader, Func<int, string?, string?, string?, T> create)
    {
        if (Next(ref reader) == JsonTokenType.Null)
        {
            return null;
        }

        Expect(reader.TokenType, JsonTokenType.StartArray);
        var calls = ImmutableArray.CreateBuilder<T>();
        var position = 0;
        while (Next(ref reader) != JsonTokenType.EndArray)
        {
            Expect(reader.TokenType, JsonTokenType.StartObject);
            int? index = null;
            string? id = null, name = null, arguments = null;
            while (Next(ref reader) == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("index"u8))
                {
                    Next(ref reader);
                    index = reader.TokenType == JsonTokenType.Number ? reader.GetInt32() : null;
                }
                else if (reader.ValueTextEquals("id"u8))
                {
                    id = ReadString(ref reader);
                }
                else if (reader.ValueTextEquals("function"u8))
                {
                    if (Next(ref reader) == JsonTokenType.Null)
                    {
                        continue;
                    }

                    Expect(reader.TokenType, JsonTokenType.StartObject);
                    while (Next(ref reader) == JsonTokenType.PropertyName)
                    {
                        if (reader.ValueTextEquals("name"u8))
                        {
                            name = ReadString(ref reader);
                        }
                        else if (reader.ValueTextEquals("arguments"u8))
                        {
                            arguments = ReadString(ref reader);
                        }
                        else
                        {
                            SkipValue(ref reader);
                        }
                    }
                }
                else
                {
                    SkipValue(ref reader);
                }
            }

            calls.Add(create(index ?? position, id, name, arguments));
            position++;
        }

        return calls.Count == 0 ? null : calls;
    }

    private static ToolCall ToCall(int index, string? id, string? name, string? arguments) => new()
    {
        Id = id ?? string.Empty,
        Name = name ?? string.Empty,
        ArgumentsJson = string.IsNullOrEmpty(arguments) ? "{}" : arguments,
    };

    private static ToolCallDelta ToDelta(int index, string? id, string? name, string? arguments) => new()
    {
        Index = index,
        Id = id,
        Name = name,
        ArgumentsDelta = NullIfEmpty(arguments),
    };

    private static Usage? ReadUsage(ref Utf8JsonReader reader)
    {
        if (Next(ref reader) == JsonTokenType.Null)
        {
            return null;
        }

        Expect(reader.TokenType, JsonTokenType.StartObject);
        int prompt = 0, completion = 0, cached = 0;
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("prompt_tokens"u8))
            {
                Next(ref reader);
                prompt = reader.GetInt32();
            }
            else if (reader.ValueTextEquals("prompt_tokens_details"u8))
            {
                cached = ReadCachedTokens(ref reader);
            }
            else if (reader.ValueTextEquals("completion_tokens"u8))
            {
                Next(ref reader);
                completion = reader.GetInt32();
            }
            else
            {
                SkipValue(ref reader);
            }
        }

        return new Usage { PromptTokens = prompt, CompletionTokens = completion, CachedPromptTokens = cached };
    }

    /// <summary><c>prompt_tokens_details.cached_tokens</c>: 0 when absent or null.</summary>
    private static int ReadCachedTokens(ref Utf8JsonReader reader)
    {
        if (Next(ref reader) != JsonTokenType.StartObject)
        {
            reader.Skip();
            return 0;
        }

        var cached = 0;
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            var isCached = reader.ValueTextEquals("cached_tokens"u8);
            if (Next(ref reader) == JsonTokenType.Number && isCached)
            {
                cached = reader.GetInt32();
            }
            else
            {
                reader.Skip();
            }
        }

        return cached;
    }

    private static FinishReason ToFinishReason(string reason) => reason switch
    {
        "length" => FinishReason.Length,
        "tool_calls" or "function_call" => FinishReason.ToolCalls,
        "content_filter" => FinishReason.ContentFilter,
        _ => FinishReason.Stop,
    };

    private static ChatRole ToRole(string role) => role switch
    {
        "system" or "developer" => ChatRole.System,
        "user" => ChatRole.User,
        "tool" or "function" => ChatRole.Tool,
        _ => ChatRole.Assistant,
    };

    private static string? ReadString(ref Utf8JsonReader reader)
    {
        switch (Next(ref reader))
        {
            case JsonTokenType.String:
                return reader.GetString();
            case JsonTokenType.Null:
                return null;
            default:
                throw new JsonException($"expected a string, found {reader.TokenType}");
        }
    }

    private static void SkipValue(ref Utf8JsonReader reader)
    {
        Next(ref reader);
        reader.Skip();
    }

    private static JsonTokenType Next(ref Utf8JsonReader reader) =>
        reader.Read() ? reader.TokenType : throw new JsonException("the JSON ends too early");

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType expected) => Expect(Next(ref reader), expected);

    private static void Expect(JsonTokenType actual, JsonTokenType expected)
    {
        if (actual != expected)
        {
            throw new JsonException($"expected {expected}, found {actual}");
        }
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private struct Envelope
    {
        public string? Id;
        public string? Model;
        public long Created;
        public string? SystemFingerprint;
        public Choice Choice;
        public Usage? Usage;
        public bool HasError;
        public bool HasChoice;
    }

    private struct Choice
    {
        public string? Content;
        public string? Refusal;
        public ChatRole? Role;
        public FinishReason? FinishReason;
        public ImmutableArray<ToolCall>.Builder? ToolCalls;
        public ImmutableArray<ToolCallDelta>.Builder? ToolCallDeltas;
    }
}
