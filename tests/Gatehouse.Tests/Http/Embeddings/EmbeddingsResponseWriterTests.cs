using System.Text;
using System.Text.Json;
using Gatehouse.Chat;
using Gatehouse.Embeddings;
using Gatehouse.Silo.Http;
using Gatehouse.Silo.Http.Embeddings;
using Xunit;

namespace Gatehouse.Tests.Http.Embeddings;

public sealed class EmbeddingsResponseWriterTests
{
    private static readonly EmbeddingResponse Response = new()
    {
        Model = "text-embedding-3-small",
        Vectors = [[0.25f, -1.5f, 3.0e-8f], [1f, 0f, -0.125f]],
        Usage = new Usage { PromptTokens = 7 },
    };

    [Fact]
    public void Write_Floats_IsOpenAIsListWithIndexedEmbeddingsAndUsage()
    {
        using var json = JsonDocument.Parse(Write(EmbeddingEncoding.Float));
        var root = json.RootElement;

        Assert.Equal("list", root.GetProperty("object").GetString());
        Assert.Equal("text-embedding-3-small", root.GetProperty("model").GetString());
        Assert.Equal(7, root.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(7, root.GetProperty("usage").GetProperty("total_tokens").GetInt32());
        var data = root.GetProperty("data").EnumerateArray().ToArray();
        Assert.Equal(2, data.Length);
        Assert.Equal(1, data[1].GetProperty("index").GetInt32());
        Assert.Equal("embedding", data[1].GetProperty("object").GetString());
        Assert.Equal([0.25f, -1.5f, 3.0e-8f], data[0].GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray());
    }

    [Fact]
    public void Write_Base64_IsTheLittleEndianFloat32sOfEachVector()
    {
        using var json = JsonDocument.Parse(Write(EmbeddingEncoding.Base64));

        var encoded = json.RootElement.GetProperty("data")[1].GetProperty("embedding").GetString()!;
        var bytes = Convert.FromBase64String(encoded);
        var values = Enumerable.Range(0, bytes.Length / 4).Select(i => System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4))).ToArray();
        Assert.Equal([1f, 0f, -0.125f], values);
    }

    private static string Write(EmbeddingEncoding encoding)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, JsonWriting.Options))
        {
            EmbeddingsResponseWriter.Write(writer, Response, encoding);
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
