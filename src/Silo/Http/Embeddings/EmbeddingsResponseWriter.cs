using System.Runtime.InteropServices;
using System.Text.Json;
using Gatehouse.Embeddings;

namespace Gatehouse.Silo.Http.Embeddings;

/// <summary>Writes the canonical <see cref="EmbeddingResponse"/> as OpenAI's <c>{"object":"list","data":[...],"model","usage"}</c>.</summary>
internal static class EmbeddingsResponseWriter
{
    public static void Write(Utf8JsonWriter writer, EmbeddingResponse response, EmbeddingEncoding encoding)
    {
        writer.WriteStartObject();
        writer.WriteString("object"u8, "list"u8);
        writer.WriteStartArray("data"u8);
        for (var i = 0; i < response.Vectors.Length; i++)
        {
            writer.WriteStartObject();
            writer.WriteString("object"u8, "embedding"u8);
            writer.WriteNumber("index"u8, i);
            if (encoding == EmbeddingEncoding.Base64)
            {
                // OpenAI's base64 form: the float32 values, little-endian, as one base64 string.
                writer.WriteBase64String("embedding"u8, AsLittleEndianBytes(response.Vectors[i]));
            }
            else
            {
                writer.WriteStartArray("embedding"u8);
                foreach (var value in response.Vectors[i])
                {
                    writer.WriteNumberValue(value);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteString("model"u8, response.Model);
        var promptTokens = response.Usage?.PromptTokens ?? 0;
        writer.WriteStartObject("usage"u8);
        writer.WriteNumber("prompt_tokens"u8, promptTokens);
        writer.WriteNumber("total_tokens"u8, promptTokens);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static ReadOnlySpan<byte> AsLittleEndianBytes(float[] vector)
    {
        if (BitConverter.IsLittleEndian)
        {
            return MemoryMarshal.AsBytes(vector.AsSpan());
        }

        var bytes = new byte[vector.Length * sizeof(float)];
        for (var i = 0; i < vector.Length; i++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), vector[i]);
        }

        return bytes;
    }
}
