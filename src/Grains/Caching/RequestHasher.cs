using System.Buffers;
using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text.Json;
using Gatehouse.Chat;
using Gatehouse.Grains;

namespace Gatehouse.Caching;

/// <summary>
/// The cache key of a request: SHA-256 over a canonical serialization of everything that changes the answer, and
/// nothing that does not.
/// </summary>
/// <remarks>
/// Included: the version salt, the cache namespace, the alias, every message (role, name, parts, tool calls, tool call
/// id), tools, tool choice, sampling parameters, stop, seed, response format, penalties and parallel tool calls.
/// Excluded: <see cref="ChatRequest.User"/>, <see cref="ChatRequest.IncludeUsage"/> and the stream flag (the cache
/// grain always records a stream with usage and shapes it per caller). JSON carried as text (tool parameter schemas,
/// tool call arguments, response schemas) is re-serialized with sorted keys and no whitespace, so key order and
/// formatting do not split entries. Fields are written by name in a fixed order rather than relying on record
/// equality (records holding ImmutableArray members compare arrays by reference). Thread-safe.
/// </remarks>
public static class RequestHasher
{
    /// <summary>
    /// Changes whenever the canonical form changes (a new field, a new rule), so that an old entry can never answer a
    /// request it was not computed for.
    /// </summary>
    public const string VersionSalt = "gatehouse-cache-v1";

    /// <summary>The cache key (<see cref="GrainKeys.ResponseCache"/>) of <paramref name="request"/> in <paramref name="cacheNamespace"/>.</summary>
    public static string Key(string cacheNamespace, ChatRequest request)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        Hash(cacheNamespace, request, hash);
        return GrainKeys.ResponseCache(hash);
    }

    public static void Hash(string cacheNamespace, ChatRequest request, Span<byte> destination)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true }))
        {
            WriteCanonical(writer, cacheNamespace, request);
        }

        SHA256.HashData(buffer.WrittenSpan, destination);
    }

    /// <summary>The canonical form, as JSON text; for tests and diagnostics.</summary>
    public static string Canonical(string cacheNamespace, ChatRequest request)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteCanonical(writer, cacheNamespace, request);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteCanonical(Utf8JsonWriter w, string cacheNamespace, ChatRequest r)
    {
        w.WriteStartObject();
        w.WriteString("v", VersionSalt);
        w.WriteString("ns", cacheNamespace);
        w.WriteString("model", r.Model);

        w.WriteStartArray("messages");
        foreach (var message in r.Messages)
        {
            w.WriteStartObject();
            w.WriteNumber("role", (int)message.Role);
            WriteOptional(w, "name", message.Name);
            WriteOptional(w, "tool_call_id", message.ToolCallId);
            w.WriteStartArray("content");
            foreach (var part in message.Content)
            {
                w.WriteStartObject();
                w.WriteNumber("kind", (int)part.Kind);
                WriteOptional(w, "text", part.Text);
                WriteOptional(w, "image_url", part.ImageUrl);
                WriteOptional(w, "detail", part.ImageDetail);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("tool_calls");
            foreach (var call in message.ToolCalls)
            {
                w.WriteStartObject();
                w.WriteString("id", call.Id);
                w.WriteString("name", call.Name);
                WriteJsonText(w, "arguments", call.ArgumentsJson);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();

        w.WriteStartArray("tools");
        foreach (var tool in r.Tools)
        {
            w.WriteStartObject();
            w.WriteString("name", tool.Name);
            WriteOptional(w, "description", tool.Description);
            WriteJsonText(w, "parameters", tool.ParametersJson);
            WriteOptional(w, "strict", tool.Strict);
            w.WriteEndObject();
        }

        w.WriteEndArray();

        if (r.ToolChoice is { } choice)
        {
            w.WriteStartObject("tool_choice");
            w.WriteNumber("mode", (int)choice.Mode);
            WriteOptional(w, "function", choice.FunctionName);
            w.WriteEndObject();
        }

        WriteOptional(w, "temperature", r.Temperature);
        WriteOptional(w, "top_p", r.TopP);
        WriteOptional(w, "max_tokens", r.MaxTokens);
        WriteStrings(w, "stop", r.Stop);
        if (r.Seed is { } seed)
        {
            w.WriteNumber("seed", seed);
        }

        if (r.ResponseFormat is { } format)
        {
            w.WriteStartObject("response_format");
            w.WriteNumber("kind", (int)format.Kind);
            WriteOptional(w, "name", format.SchemaName);
            WriteJsonText(w, "schema", format.SchemaJson);
            WriteOptional(w, "strict", format.Strict);
            w.WriteEndObject();
        }

        WriteOptional(w, "presence_penalty", r.PresencePenalty);
        WriteOptional(w, "frequency_penalty", r.FrequencyPenalty);
        WriteOptional(w, "parallel_tool_calls", r.ParallelToolCalls);
        w.WriteEndObject();
    }

    private static void WriteStrings(Utf8JsonWriter w, string name, ImmutableArray<string> values)
    {
        w.WriteStartArray(name);
        foreach (var value in values.IsDefault ? [] : values)
        {
            w.WriteStringValue(value);
        }

        w.WriteEndArray();
    }

    private static void WriteOptional(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null)
        {
            w.WriteString(name, value);
        }
    }

    private static void WriteOptional(Utf8JsonWriter w, string name, double? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(name, v);
        }
    }

    private static void WriteOptional(Utf8JsonWriter w, string name, int? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(name, v);
        }
    }

    private static void WriteOptional(Utf8JsonWriter w, string name, bool? value)
    {
        if (value is { } v)
        {
            w.WriteBoolean(name, v);
        }
    }

    /// <summary>Writes JSON carried as text in canonical form (sorted keys, no whitespace); text that is not JSON verbatim, as a string.</summary>
    private static void WriteJsonText(Utf8JsonWriter w, string name, string? json)
    {
        if (json is null)
        {
            return;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException)
        {
            // Not JSON (a model may emit broken arguments): exact text is the only safe identity.
            w.WriteString(name, json);
            return;
        }

        using (document)
        {
            w.WritePropertyName(name);
            WriteSorted(w, document.RootElement);
        }
    }

    private static void WriteSorted(Utf8JsonWriter w, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                w.WriteStartObject();
                foreach (var property in element.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    w.WritePropertyName(property.Name);
                    WriteSorted(w, property.Value);
                }

                w.WriteEndObject();
                break;
            case JsonValueKind.Array:
                w.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    WriteSorted(w, item);
                }

                w.WriteEndArray();
                break;
            default:
                // Numbers keep their literal text ("1" and "1.0" stay distinct: exactness over cleverness).
                element.WriteTo(w);
                break;
        }
    }
}
