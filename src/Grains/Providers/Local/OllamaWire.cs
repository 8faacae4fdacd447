using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gatehouse.Providers.Local;

/// <summary>One answer of Ollama's <c>/api/chat</c>: the whole answer, or one NDJSON line of a stream.</summary>
internal sealed class OllamaChatResponse
{
    [JsonPropertyName("model")] public string? Model { get; set; }
    /// <summary>RFC 3339 with nanoseconds (Go's format), more digits than DateTimeOffset parses: kept as text.</summary>
    [JsonPropertyName("created_at")] public string? CreatedAt { get; set; }
    [JsonPropertyName("message")] public OllamaMessage? Message { get; set; }
    [JsonPropertyName("done")] public bool Done { get; set; }
    [JsonPropertyName("done_reason")] public string? DoneReason { get; set; }
    [JsonPropertyName("prompt_eval_count")] public int? PromptEvalCount { get; set; }
    [JsonPropertyName("eval_count")] public int? EvalCount { get; set; }
    /// <summary>Set instead of everything else when the server fails, also as a line inside a stream.</summary>
    [JsonPropertyName("error")] public string? Error { get; set; }
}

internal sealed class OllamaMessage
{
    [JsonPropertyName("role")] public string? Role { get; set; }
    [JsonPropertyName("content")] public string? Content { get; set; }
    [JsonPropertyName("tool_calls")] public List<OllamaToolCall>? ToolCalls { get; set; }
}

internal sealed class OllamaToolCall
{
    [JsonPropertyName("id")] public string? Id { get; set; }
    [JsonPropertyName("function")] public OllamaFunction? Function { get; set; }
}

internal sealed class OllamaFunction
{
    [JsonPropertyName("name")] public string? Name { get; set; }
    /// <summary>An object (Ollama parses the model's JSON itself), unlike OpenAI's string.</summary>
    [JsonPropertyName("arguments")] public JsonElement Arguments { get; set; }
}

/// <summary>A request to Ollama's <c>/api/embed</c>.</summary>
/// <remarks><c>truncate</c> is left to Ollama's default (cut an input to the model's context), which its users expect.</remarks>
internal sealed class OllamaEmbedRequest
{
    [JsonPropertyName("model")] public required string Model { get; init; }
    [JsonPropertyName("input")] public required IReadOnlyList<string> Input { get; init; }
    [JsonPropertyName("dimensions")] public int? Dimensions { get; init; }
}

/// <summary>The answer of Ollama's <c>/api/embed</c>: one vector per input, in input order.</summary>
internal sealed class OllamaEmbedResponse
{
    [JsonPropertyName("model")] public string? Model { get; set; }
    [JsonPropertyName("embeddings")] public List<float[]>? Embeddings { get; set; }
    [JsonPropertyName("prompt_eval_count")] public int? PromptEvalCount { get; set; }
    [JsonPropertyName("error")] public string? Error { get; set; }
}

/// <summary>Source-generated (de)serialization of Ollama's wire types: no reflection on the hot path.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(OllamaChatResponse))]
[JsonSerializable(typeof(OllamaEmbedRequest))]
[JsonSerializable(typeof(OllamaEmbedResponse))]
internal sealed partial class OllamaJsonContext : JsonSerializerContext;
