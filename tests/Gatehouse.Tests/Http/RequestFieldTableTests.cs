using System.Text.Json;
using Gatehouse.Errors;
using Gatehouse.Silo.Http;
using Gatehouse.Silo.Http.Anthropic;
using Gatehouse.Silo.Http.OpenAI;
using Gatehouse.Silo.Http.Responses;
using Xunit;

namespace Gatehouse.Tests.Http;

public sealed class RequestFieldTableTests
{
    private static readonly RequestFieldTable Table = new(
        new JsonFieldReader(OpenAIRequestReader.Wording),
        unsupported: RequestFieldTable.NotSupported("audio", "modalities"),
        ignored: ["store"]);

    [Fact]
    public void Properties_FieldsTheReaderReads_NeverReachTheTable()
    {
        // "modalities" is unsupported, but the reader reads the one value it can honour before the table sees it.
        var read = ReadBody("""{"model":"gpt","modalities":["text"]}""");

        Assert.Equal(["model", "modalities"], read);
    }

    [Fact]
    public void ReadOther_UnsupportedField_ThrowsNamingIt()
    {
        var error = Assert.Throws<GatewayException>(() => ReadBody("""{"model":"gpt","audio":{"voice":"alloy"}}"""));

        Assert.Equal(GatewayError.InvalidRequest, error.Error);
        Assert.Equal("audio", error.Param);
        Assert.Equal("Gatehouse does not support 'audio'.", error.Message);
    }

    [Fact]
    public void ReadOther_UnsupportedFieldNull_IsAccepted()
    {
        Assert.Equal(["model"], ReadBody("""{"model":"gpt","audio":null}"""));
    }

    [Fact]
    public void ReadOther_UnsupportedFieldWithItsOwnMessage_ThrowsThatMessage()
    {
        var table = new RequestFieldTable(
            new JsonFieldReader(AnthropicRequestReader.Wording), unsupported: [KeyValuePair.Create("top_k", "top_k: use 'top_p'.")], ignored: []);

        var error = Assert.Throws<GatewayException>(() => table.ReadOther(Property("""{"top_k":5}""")));

        Assert.Equal("top_k", error.Param);
        Assert.Equal("top_k: use 'top_p'.", error.Message);
    }

    [Fact]
    public void ReadOther_IgnoredField_IsAcceptedWithoutEffect()
    {
        Assert.Equal(["model"], ReadBody("""{"model":"gpt","store":{"any":"value"}}"""));
    }

    [Fact]
    public void ReadOther_UnknownField_ThrowsUnrecognizedInTheVendorsWording()
    {
        var openAI = Assert.Throws<GatewayException>(() => ReadBody("""{"model":"gpt","temprature":1}"""));
        var anthropic = Assert.Throws<GatewayException>(() =>
            new RequestFieldTable(new JsonFieldReader(AnthropicRequestReader.Wording), [], []).ReadOther(Property("""{"temprature":1}""")));

        Assert.Equal(GatewayError.InvalidRequest, openAI.Error);
        Assert.Equal("temprature", openAI.Param);
        Assert.Equal("Unrecognized request argument supplied: temprature", openAI.Message);
        Assert.Equal("temprature", anthropic.Param);
        Assert.Equal("temprature: Extra inputs are not permitted", anthropic.Message);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("\"hi\"")]
    public void Properties_BodyNotAnObject_Throws(string json)
    {
        var error = Assert.Throws<GatewayException>(() => ReadBody(json));

        Assert.Equal(GatewayError.InvalidRequest, error.Error);
        Assert.Null(error.Param);
        Assert.Equal("The request body must be a JSON object.", error.Message);
    }

    [Fact]
    public void Properties_BodyWithInvalidText_ThrowsNamingTheField()
    {
        var error = Assert.Throws<GatewayException>(() => ReadBody("""{"model":"\ud800"}"""));

        Assert.Equal("model", error.Param);
    }

    /// <summary>Each reader's table refuses a field exactly as the reader does for the whole body.</summary>
    [Theory]
    [InlineData("openai", """{"model":"gpt","messages":[{"role":"user","content":"hi"}],"logit_bias":{"1":2}}""")]
    [InlineData("openai", """{"model":"gpt","messages":[{"role":"user","content":"hi"}],"tempature":1}""")]
    [InlineData("anthropic", """{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"top_k":5}""")]
    [InlineData("anthropic", """{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"tempature":1}""")]
    [InlineData("responses", """{"model":"fast","input":"hi","reasoning":{"effort":"high"}}""")]
    [InlineData("responses", """{"model":"fast","input":"hi","tempature":1}""")]
    public void ReadOther_FieldTheReaderRefuses_SameErrorAsTheReader(string wire, string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        Action read = wire switch
        {
            "openai" => () => OpenAIRequestReader.Read(root, ImageUrlPolicy.HttpsOnly),
            "anthropic" => () => AnthropicRequestReader.Read(root, ImageUrlPolicy.HttpsOnly),
            _ => () => ResponsesRequestReader.Read(root, ImageUrlPolicy.HttpsOnly),
        };
        var table = wire switch
        {
            "openai" => OpenAIRequestReader.TopLevel,
            "anthropic" => AnthropicRequestReader.TopLevel,
            _ => ResponsesRequestReader.TopLevel,
        };

        var fromReader = Assert.Throws<GatewayException>(read);
        var fromTable = Assert.Throws<GatewayException>(() => table.ReadOther(root.EnumerateObject().Last()));

        Assert.Equal(fromReader.Message, fromTable.Message);
        Assert.Equal(fromReader.Param, fromTable.Param);
        Assert.Equal(fromReader.Error, fromTable.Error);
    }

    /// <summary>A reader in miniature: reads "model" and text-only "modalities"; everything else goes to the table.</summary>
    private static List<string> ReadBody(string json)
    {
        using var document = JsonDocument.Parse(json);
        var read = new List<string>();
        foreach (var property in Table.Properties(document.RootElement))
        {
            switch (property.Name)
            {
                case "model":
                case "modalities" when property.Value.ValueKind == JsonValueKind.Array && property.Value[0].ValueEquals("text"):
                    read.Add(property.Name);
                    break;
                default:
                    Table.ReadOther(property);
                    break;
            }
        }

        return read;
    }

    private static JsonProperty Property(string json) => JsonSerializer.Deserialize<JsonElement>(json).EnumerateObject().Single();
}
