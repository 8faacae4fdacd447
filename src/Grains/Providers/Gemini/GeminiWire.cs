using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gatehouse.Providers.Gemini;

/// <summary>
/// One <c>GenerateContentResponse</c>: the whole answer of <c>generateContent</c>, or one SSE <c>data:</c> event of
/// <c>streamGenerateContent?alt=sse</c>. <see cref="Error"/> is set instead when the body is Google's error envelope.
/// </summary>
internal sealed class GeminiResponse
{
    [JsonPropertyName("candidates")] public List<GeminiCandidate>? Candidates { get; set; }
    [JsonPropertyName("promptFeedback")] public GeminiPromptFeedback? PromptFeedback { get; set; }
    [JsonPropertyName("usageMetadata")] public GeminiUsage? UsageMetadata { get; set; }
    [JsonPropertyName("modelVersion")] public string? ModelVersion { get; set; }
    [JsonPropertyName("responseId")] public string? ResponseId { get; set; }
    [JsonPropertyName("error")] public GeminiError? Error { get; set; }
}

internal sealed class GeminiCandidate
{
    [JsonPropertyName("content")] public GeminiContent? Content { get; set; }
    /// <summary>STOP, MAX_TOKENS, SAFETY, RECITATION, BLOCKLIST, PROHIBITED_CONTENT, SPII, MALFORMED_FUNCTION_CALL, OTHER…; null until the last event of a stream.</summary>
    [JsonPropertyName("finishReason")] public string? FinishReason { get; set; }
    [JsonPropertyName("index")] public int? Index { get; set; }
}

internal sealed class GeminiContent
{
    [JsonPropertyName("role")] public string? Role { get; set; }
    [JsonPropertyName("parts")] public List<GeminiPart>? Parts { get; set; }
}

internal sealed class GeminiPart
{
    [JsonPropertyName("text")] public string? Text { get; set; }
    /// <summary>A thought summary of a thinking model, not part of the answer.</summary>
    [JsonPropertyName("thought")] public bool? Thought { get; set; }
    [JsonPropertyName("functionCall")] public GeminiFunctionCall? FunctionCall { get; set; }
}

internal sealed class GeminiFunctionCall
{
    /// <summary>Set by some models and APIs only; Gemini usually ties calls and results by name.</summary>
    [JsonPropertyName("id")] public string? Id { get; set; }
    [JsonPropertyName("name")] public string? Name { get; set; }
    /// <summary>An object, unlike OpenAI's JSON string.</summary>
    [JsonPropertyName("args")] public JsonElement Args { get; set; }
}

internal sealed class GeminiPromptFeedback
{
    /// <summary>Set when the prompt itself was blocked; the answer then has no candidates.</summary>
    [JsonPropertyName("blockReason")] public string? BlockReason { get; set; }
}

internal sealed class GeminiUsage
{
    [JsonPropertyName("promptTokenCount")] public int? PromptTokenCount { get; set; }
    [JsonPropertyName("candidatesTokenCount")] public int? CandidatesTokenCount { get; set; }
    [JsonPropertyName("totalTokenCount")] public int? TotalTokenCount { get; set; }
    /// <summary>Tokens a thinking model spent thinking: billed as output, not counted in <see cref="CandidatesTokenCount"/>.</summary>
    [JsonPropertyName("thoughtsTokenCount")] public int? ThoughtsTokenCount { get; set; }
    [JsonPropertyName("cachedContentTokenCount")] public int? CachedContentTokenCount { get; set; }
}

/// <summary>Google's error: <c>{"error":{"code":429,"message":"…","status":"RESOURCE_EXHAUSTED","details":[…]}}</c>.</summary>
internal sealed class GeminiError
{
    [JsonPropertyName("code")] public int? Code { get; set; }
    [JsonPropertyName("message")] public string? Message { get; set; }
    [JsonPropertyName("status")] public string? Status { get; set; }
    [JsonPropertyName("details")] public List<GeminiErrorDetail>? Details { get; set; }
}

/// <summary>One <c>google.rpc</c> detail; only the fields the gateway reads (RetryInfo, ErrorInfo).</summary>
internal sealed class GeminiErrorDetail
{
    [JsonPropertyName("@type")] public string? Type { get; set; }
    /// <summary>RetryInfo: a protobuf Duration as JSON, e.g. <c>"20s"</c> or <c>"1.5s"</c>.</summary>
    [JsonPropertyName("retryDelay")] public string? RetryDelay { get; set; }
    /// <summary>ErrorInfo: e.g. <c>API_KEY_INVALID</c>.</summary>
    [JsonPropertyName("reason")] public string? Reason { get; set; }
}

/// <summary>Source-generated (de)serialization of Gemini's wire types: no reflection on the hot path.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(GeminiResponse))]
internal sealed partial class GeminiJsonContext : JsonSerializerContext;
