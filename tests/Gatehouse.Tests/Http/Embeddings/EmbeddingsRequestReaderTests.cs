using System.Text.Json;
using Gatehouse.Errors;
using Gatehouse.Silo.Http.Embeddings;
using Xunit;

namespace Gatehouse.Tests.Http.Embeddings;

public sealed class EmbeddingsRequestReaderTests
{
    [Fact]
    public void Read_EveryField_MapsToTheCanonicalRequest()
    {
        var (request, encoding) = Read("""{"model":"embed","input":["a cat","a dog"],"encoding_format":"base64","dimensions":256,"user":"ann"}""");

        Assert.Equal("embed", request.Model);
        Assert.Equal(["a cat", "a dog"], request.Inputs.ToArray());
        Assert.Equal(256, request.Dimensions);
        Assert.Equal("ann", request.User);
        Assert.Equal(EmbeddingEncoding.Base64, encoding);
    }

    [Fact]
    public void Read_StringInput_IsOneInputAsFloats()
    {
        var (request, encoding) = Read("""{"model":"embed","input":"just one"}""");

        Assert.Equal(["just one"], request.Inputs.ToArray());
        Assert.Null(request.Dimensions);
        Assert.Equal(EmbeddingEncoding.Float, encoding);
    }

    public static TheoryData<string, string, string> BadRequests => new()
    {
        { """{"input":"x"}""", "model", "you must provide a model parameter" },
        { """{"model":"embed"}""", "input", "'input' is a required property" },
        { """{"model":"embed","input":[]}""", "input", "Invalid 'input': empty array. Expected an array with minimum length 1." },
        { """{"model":"embed","input":""}""", "input", "Invalid 'input': empty string. Expected a string with minimum length 1." },
        { """{"model":"embed","input":["ok",""]}""", "input[1]", "Invalid 'input[1]': empty string. Expected a string with minimum length 1." },
        { """{"model":"embed","input":[1,2,3]}""", "input[0]", "Invalid 'input[0]': Gatehouse embeds text only; send the input as a string rather than token ids (its targets may use different tokenizers)." },
        { """{"model":"embed","input":[[1,2]]}""", "input[0]", "Invalid 'input[0]': Gatehouse embeds text only; send the input as a string rather than token ids (its targets may use different tokenizers)." },
        { """{"model":"embed","input":["ok",{"a":1}]}""", "input[1]", "Invalid type for 'input[1]': expected a string, but got an object instead." },
        { """{"model":"embed","input":42}""", "input", "Invalid type for 'input': expected a string or an array of strings, but got a number instead." },
        { """{"model":"embed","input":"x","encoding_format":"int8"}""", "encoding_format", "Invalid value for 'encoding_format': 'int8'. Supported values are: 'float' and 'base64'." },
        { """{"model":"embed","input":"x","dimensions":0}""", "dimensions", "Invalid 'dimensions': 0; it must be at least 1." },
        { """{"model":"embed","input":"x","dimensions":"256"}""", "dimensions", "Invalid type for 'dimensions': expected an integer, but got a string instead." },
        { """{"model":"embed","input":"x","dimensions":100000}""", "dimensions", "Invalid 'dimensions': 100000; it must be at most 16384." },
        { """{"model":"embed","input":"x","truncate":true}""", "truncate", "Unrecognized request argument supplied: truncate" },
        { """{"model":7,"input":"x"}""", "model", "Invalid type for 'model': expected a string, but got a number instead." },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public void Read_BadRequest_Is400NamingTheField(string json, string param, string message)
    {
        var error = Assert.Throws<GatewayException>(() => Read(json));

        Assert.Equal(GatewayError.InvalidRequest, error.Error);
        Assert.Equal(param, error.Param);
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void Read_MoreInputsThanOpenAIAllows_Is400()
    {
        var json = $$"""{"model":"embed","input":[{{string.Join(',', Enumerable.Repeat("\"x\"", EmbeddingsRequestReader.MaxInputs + 1))}}]}""";

        var error = Assert.Throws<GatewayException>(() => Read(json));

        Assert.Equal("input", error.Param);
        Assert.StartsWith("Invalid 'input': array too long. Expected an array with maximum length 2048", error.Message);
    }

    [Fact]
    public void Read_BodyNotAnObject_Is400()
    {
        Assert.Equal(GatewayError.InvalidRequest, Assert.Throws<GatewayException>(() => Read("[1]")).Error);
    }

    private static (Gatehouse.Embeddings.EmbeddingRequest, EmbeddingEncoding) Read(string json)
    {
        using var document = JsonDocument.Parse(json);
        return EmbeddingsRequestReader.Read(document.RootElement);
    }
}
