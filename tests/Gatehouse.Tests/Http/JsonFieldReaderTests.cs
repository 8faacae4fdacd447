using System.Text.Json;
using Gatehouse.Errors;
using Gatehouse.Silo.Http;
using Gatehouse.Silo.Http.Anthropic;
using Gatehouse.Silo.Http.OpenAI;
using Xunit;

namespace Gatehouse.Tests.Http;

public sealed class JsonFieldReaderTests
{
    [Fact]
    public void ReadRequiredString_Present_ReturnsIt()
    {
        Assert.Equal("f", new JsonFieldReader(OpenAIRequestReader.Wording).ReadRequiredString(Element("""{"name":"f"}"""), "name", "tools[0]"));
    }

    [Fact]
    public void ReadRequiredString_Missing_ThrowsRequiredInTheVendorsWording()
    {
        var openAI = Assert.Throws<GatewayException>(() =>
            new JsonFieldReader(OpenAIRequestReader.Wording).ReadRequiredString(Element("{}"), "name", "tools[0]"));
        var anthropic = Assert.Throws<GatewayException>(() =>
            new JsonFieldReader(AnthropicRequestReader.Wording).ReadRequiredString(Element("{}"), "name", "tools.0"));

        Assert.Equal(("tools[0].name", "'tools[0].name' is a required property"), (openAI.Param, openAI.Message));
        Assert.Equal(("tools.0.name", "tools.0.name: Field required"), (anthropic.Param, anthropic.Message));
    }

    [Theory]
    [InlineData(false, "Invalid type for 'tools[0].name': expected a string, but got null instead.")]
    [InlineData(true, "'tools[0].name' is a required property")]
    public void ReadRequiredString_Null_IsAWrongTypeUnlessNullIsMissing(bool nullIsMissing, string message)
    {
        var reader = new JsonFieldReader(OpenAIRequestReader.Wording, nullIsMissing);

        var error = Assert.Throws<GatewayException>(() => reader.ReadRequiredString(Element("""{"name":null}"""), "name", "tools[0]"));

        Assert.Equal("tools[0].name", error.Param);
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void ReadOptionalValues_MissingOrNull_ReturnNull()
    {
        var reader = new JsonFieldReader(OpenAIRequestReader.Wording);
        var element = Element("""{"a":null}""");

        Assert.Null(reader.ReadOptionalString(element, "a", "x"));
        Assert.Null(reader.ReadOptionalBool(element, "b", "x"));
        Assert.Null(reader.ReadOptionalObjectJson(element, "a", "x"));
    }

    private static JsonElement Element(string json) => JsonSerializer.Deserialize<JsonElement>(json);
}
