using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;
using Gatehouse.Embeddings;

namespace Gatehouse.Providers.Gemini;

/// <summary>
/// Writes a canonical <see cref="EmbeddingRequest"/> as the body of Gemini's <c>embedContent</c> (one input) or
/// <c>batchEmbedContents</c> (several); the answers are read with <see cref="GeminiEmbeddingJsonContext"/>.
/// </summary>
/// <remarks>
/// Each input is one <c>Content</c> with one text part. <see cref="EmbeddingRequest.Dimensions"/> is
/// <c>outputDimensionality</c>, per request in a batch. Gemini has no field for <see cref="EmbeddingRequest.User"/>,
/// so it is not sent.
/// </remarks>
internal static class GeminiEmbeddingWire
{
    /// <summary>Writes the body: <c>{"content":…}</c> for one input, <c>{"requests":[{"model":"models/{model}","content":…},…]}</c> for several.</summary>
    /// <param name="writer">Where the body goes.</param>
    /// <param name="request">The canonical request.</param>
    /// <param name="model">The bare upstream model name (without <c>models/</c>).</param>
    public static void WriteRequest(Utf8JsonWriter writer, EmbeddingRequest request, string model)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(request);
        if (request.Inputs.Length == 1)
        {
            WriteEmbedContent(writer, request.Inputs[0], request.Dimensions, model: null);
            return;
        }

        writer.WriteStartObject();
        writer.WriteStartArray("requests"u8);
        foreach (var input in request.Inputs)
        {
            // batchEmbedContents requires each request's model, and it must be the one in the URL.
            WriteEmbedContent(writer, input, request.Dimensions, "models/" + model);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>The body as JSON bytes.</summary>
    public static byte[] Serialize(EmbeddingRequest request, string model)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteRequest(writer, request, model);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteEmbedContent(Utf8JsonWriter writer, string input, int? dimensions, string? model)
    {
        writer.WriteStartObject();
        if (model is not null)
        {
            writer.WriteString("model"u8, model);
        }

        writer.WriteStartObject("content"u8);
        writer.WriteStartArray("parts"u8);
        writer.WriteStartObject();
        writer.WriteString("text"u8, input);
        writer.WriteEndObject();
        writer.WriteEndArray();
        writer.WriteEndObject();
        if (dimensions is { } value)
        {
            writer.WriteNumber("outputDimensionality"u8, value);
        }

        writer.WriteEndObject();
    }
}

/// <summary>
/// The answer of <c>embedContent</c> (<see cref="Embedding"/>) or <c>batchEmbedContents</c> (<see cref="Embeddings"/>,
/// in the order of the requests); <see cref="Error"/> is set instead when the body is Google's error envelope.
/// </summary>
/// <remarks>
/// The Gemini API's reference documents no usage on these answers (only the vectors); <see cref="UsageMetadata"/> is
/// read in case one carries Google's <c>usageMetadata</c>, as Vertex AI's embedding answers do.
/// </remarks>
internal sealed class GeminiEmbedResponse
{
    [JsonPropertyName("embedding")] public GeminiContentEmbedding? Embedding { get; set; }
    [JsonPropertyName("embeddings")] public List<GeminiContentEmbedding?>? Embeddings { get; set; }
    [JsonPropertyName("usageMetadata")] public GeminiUsage? UsageMetadata { get; set; }
    [JsonPropertyName("error")] public GeminiError? Error { get; set; }
}

internal sealed class GeminiContentEmbedding
{
    [JsonPropertyName("values")] public float[]? Values { get; set; }
}

/// <summary>Source-generated reading of Gemini's embedding answers.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(GeminiEmbedResponse))]
internal sealed partial class GeminiEmbeddingJsonContext : JsonSerializerContext;
