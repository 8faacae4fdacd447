using System.Text;
using System.Text.Json;
using Gatehouse.Providers.OpenAI;
using Gatehouse.Tests.Doubles;
using Xunit;

namespace Gatehouse.Tests.Providers.OpenAI;

/// <summary>The Embeddings answer reader on answers no double plays.</summary>
public sealed class OpenAIEmbeddingWireTests
{
    [Fact]
    public void ReadResponse_ItemsWithoutIndex_TakeTheirPositions()
    {
        var response = Read("""{"data":[{"embedding":[1,2]},{"embedding":[3,4]}],"model":"m"}""", inputCount: 2);

        EmbeddingAssert.Equal([[1f, 2f], [3f, 4f]], response!.Vectors);
        Assert.Null(response.Usage);
    }

    [Fact]
    public void ReadResponse_Base64OfSpecialValues_DecodesBitForBit()
    {
        float[] vector = [0f, -0f, float.Epsilon, 1e-30f, -123456.789f, 0.1f];

        var response = Read($$"""{"data":[{"index":0,"embedding":"{{OpenAIUpstreamDouble.ToBase64(vector)}}"}]}""", inputCount: 1);

        Assert.Equal(vector.Select(BitConverter.SingleToInt32Bits), Assert.Single(response!.Vectors).Select(BitConverter.SingleToInt32Bits));
        Assert.Equal("requested", response.Model);
    }

    [Fact]
    public void ReadResponse_ErrorEnvelope_ReturnsNull() =>
        Assert.Null(Read("""{"error":{"message":"overloaded","type":"server_error"}}""", inputCount: 1));

    [Theory]
    [InlineData("""{"data":[{"index":0,"embedding":[1]},{"index":0,"embedding":[2]}]}""")]
    [InlineData("""{"data":[{"index":2,"embedding":[1]}]}""")]
    [InlineData("""{"data":[{"index":0}]}""")]
    [InlineData("""{"data":[{"index":0,"embedding":"AAAA"}]}""")]
    [InlineData("""{"data":[{"index":0,"embedding":{"values":[1]}}]}""")]
    [InlineData("""{"model":"m"}""")]
    [InlineData("""{"data":[{"index":0,"embedding":[1]""")]
    public void ReadResponse_NotOneVectorPerInput_Throws(string json) =>
        Assert.ThrowsAny<JsonException>(() => Read(json, inputCount: 1));

    [Fact]
    public void ReadResponse_InvalidBase64_ThrowsFormatException() =>
        Assert.Throws<FormatException>(() => Read("""{"data":[{"index":0,"embedding":"not base64!"}]}""", inputCount: 1));

    private static Gatehouse.Embeddings.EmbeddingResponse? Read(string json, int inputCount) =>
        OpenAIEmbeddingWire.ReadResponse(Encoding.UTF8.GetBytes(json), "requested", inputCount);
}
