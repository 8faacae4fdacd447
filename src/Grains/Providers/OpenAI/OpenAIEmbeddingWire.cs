using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Text.Json;
using Gatehouse.Chat;
using Gatehouse.Embeddings;

namespace Gatehouse.Providers.OpenAI;

/// <summary>
/// Writes a canonical <see cref="EmbeddingRequest"/> as an OpenAI Embeddings request body and reads the answer straight
/// from UTF-8 with <see cref="Utf8JsonReader"/>, with no SDK model objects in between.
/// </summary>
/// <remarks>
/// The reader takes either encoding of a vector, whatever was asked for: compatible servers that ignore
/// <c>encoding_format</c> answer with floats.
/// </remarks>
internal static class OpenAIEmbeddingWire
{
    public const string Base64Encoding = "base64";
    public const string FloatEncoding = "float";

    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true };

    /// <summary>The request body, in a pooled buffer the caller disposes once the upstream has answered.</summary>
    /// <param name="request">The canonical request; its <see cref="EmbeddingRequest.Model"/> is the upstream model.</param>
    /// <param name="encodingFormat"><see cref="Base64Encoding"/> or <see cref="FloatEncoding"/>.</param>
    public static PooledBinaryContent CreateContent(EmbeddingRequest request, string encodingFormat)
    {
        ArgumentNullException.ThrowIfNull(request);
        var content = new PooledBinaryContent();
        try
        {
            using var writer = new Utf8JsonWriter(content, WriterOptions);
            WriteRequest(writer, request, encodingFormat);
            writer.Flush();
            return content;
        }
        catch
        {
            content.Dispose();
            throw;
        }
    }

    /// <summary>Writes the request body; see <see cref="CreateContent"/>.</summary>
    public static void WriteRequest(Utf8JsonWriter writer, EmbeddingRequest request, string encodingFormat)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(request);
        writer.WriteStartObject();
        writer.WriteString("model"u8, request.Model);
        writer.WriteStartArray("input"u8);
        foreach (var input in request.Inputs)
        {
            writer.WriteStringValue(input);
        }

        writer.WriteEndArray();
        writer.WriteString("encoding_format"u8, encodingFormat);
        if (request.Dimensions is { } dimensions)
        {
            writer.WriteNumber("dimensions"u8, dimensions);
        }

        if (request.User is { } user)
        {
            writer.WriteString("user"u8, user);
        }

        writer.WriteEndObject();
    }

    /// <summary>Reads an embeddings answer.</summary>
    /// <param name="json">The response body.</param>
    /// <param name="requestedModel">The model to report when the upstream names none.</param>
    /// <param name="inputCount">How many inputs were sent: the answer must hold exactly one vector for each.</param>
    /// <returns>The vectors in input order; null when the body is an error envelope instead (<c>{"error":…}</c>).</returns>
    /// <exception cref="JsonException">The body is neither an embeddings answer nor an error.</exception>
    public static EmbeddingResponse? ReadResponse(ReadOnlySpan<byte> json, string requestedModel, int inputCount)
    {
        var reader = new Utf8JsonReader(json);
        Expect(Next(ref reader), JsonTokenType.StartObject);
        string? model = null;
        Usage? usage = null;
        float[]?[]? vectors = null;
        var hasError = false;
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("data"u8))
            {
                vectors = ReadData(ref reader, inputCount);
            }
            else if (reader.ValueTextEquals("model"u8))
            {
                model = Next(ref reader) == JsonTokenType.String ? reader.GetString() : null;
                reader.Skip();
            }
            else if (reader.ValueTextEquals("usage"u8))
            {
                usage = ReadUsage(ref reader);
            }
            else if (reader.ValueTextEquals("error"u8))
            {
                hasError = Next(ref reader) != JsonTokenType.Null;
                reader.Skip();
            }
            else
            {
                Next(ref reader);
                reader.Skip();
            }
        }

        if (hasError)
        {
            return null;
        }

        if (vectors is null)
        {
            throw new JsonException("the answer has no data");
        }

        var ordered = ImmutableArray.CreateBuilder<float[]>(inputCount);
        for (var i = 0; i < inputCount; i++)
        {
            // A missing vector shifted into a neighbour's place would hand one text's embedding to another.
            ordered.Add(vectors[i] ?? throw new JsonException($"the answer has no embedding for input {i}"));
        }

        return new EmbeddingResponse
        {
            Model = string.IsNullOrEmpty(model) ? requestedModel : model,
            Vectors = ordered.MoveToImmutable(),
            Usage = usage,
        };
    }

    /// <summary>
    /// The <c>data</c> array, placed by each item's <c>index</c> (an item without one takes its position): the API does
    /// not promise the items come in input order.
    /// </summary>
    private static float[]?[] ReadData(ref Utf8JsonReader reader, int inputCount)
    {
        Expect(Next(ref reader), JsonTokenType.StartArray);
        var vectors = new float[]?[inputCount];
        var position = 0;
        while (Next(ref reader) == JsonTokenType.StartObject)
        {
            int? index = null;
            float[]? vector = null;
            while (Next(ref reader) == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("index"u8))
                {
                    Expect(Next(ref reader), JsonTokenType.Number);
                    index = reader.GetInt32();
                }
                else if (reader.ValueTextEquals("embedding"u8))
                {
                    vector = ReadVector(ref reader);
                }
                else
                {
                    Next(ref reader);
                    reader.Skip();
                }
            }

            var at = index ?? position;
            if (at < 0 || at >= inputCount)
            {
                throw new JsonException($"the answer has an embedding for input {at}, of {inputCount} sent");
            }

            if (vectors[at] is not null)
            {
                throw new JsonException($"the answer has two embeddings for input {at}");
            }

            vectors[at] = vector ?? throw new JsonException($"the item for input {at} has no embedding");
            position++;
        }

        Expect(reader.TokenType, JsonTokenType.EndArray);
        return vectors;
    }

    /// <summary>An array of numbers, or a base64 string of little-endian float32 values.</summary>
    private static float[] ReadVector(ref Utf8JsonReader reader)
    {
        switch (Next(ref reader))
        {
            case JsonTokenType.String:
            {
                var bytes = reader.GetBytesFromBase64();
                if (bytes.Length % sizeof(float) != 0)
                {
                    throw new JsonException($"a base64 embedding of {bytes.Length} bytes is not a whole number of float32 values");
                }

                var vector = new float[bytes.Length / sizeof(float)];
                for (var i = 0; i < vector.Length; i++)
                {
                    vector[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * sizeof(float)));
                }

                return vector;
            }

            case JsonTokenType.StartArray:
            {
                var values = new List<float>(1536);
                while (Next(ref reader) == JsonTokenType.Number)
                {
                    values.Add(reader.GetSingle());
                }

                Expect(reader.TokenType, JsonTokenType.EndArray);
                return [.. values];
            }

            default:
                throw new JsonException($"expected an embedding, found {reader.TokenType}");
        }
    }

    private static Usage? ReadUsage(ref Utf8JsonReader reader)
    {
        if (Next(ref reader) != JsonTokenType.StartObject)
        {
            reader.Skip();
            return null;
        }

        var prompt = 0;
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            var isPrompt = reader.ValueTextEquals("prompt_tokens"u8);
            if (Next(ref reader) == JsonTokenType.Number && isPrompt)
            {
                prompt = reader.GetInt32();
            }
            else
            {
                reader.Skip();
            }
        }

        return new Usage { PromptTokens = prompt, CompletionTokens = 0 };
    }

    private static JsonTokenType Next(ref Utf8JsonReader reader) =>
        reader.Read() ? reader.TokenType : throw new JsonException("the JSON ends too early");

    private static void Expect(JsonTokenType actual, JsonTokenType expected)
    {
        if (actual != expected)
        {
            throw new JsonException($"expected {expected}, found {actual}");
        }
    }
}
