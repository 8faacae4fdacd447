using System.Text.Json;
using Gatehouse.Chat;
using Gatehouse.Errors;
using Gatehouse.Silo.Http;
using Gatehouse.Silo.Http.Anthropic;
using Gatehouse.Silo.Http.OpenAI;
using Xunit;

namespace Gatehouse.Tests.Http;

public sealed class ToolDefinitionReaderTests
{
    private const string Parameters = """{"type":"object","properties":{"q":{"type":"string"}}}""";

    private static readonly ToolDefinitionReader OpenAI = new(new JsonFieldReader(OpenAIRequestReader.Wording));
    private static readonly ToolDefinitionReader Anthropic = new(new JsonFieldReader(AnthropicRequestReader.Wording), schemaField: "input_schema");

    [Fact]
    public void ReadTools_ValidFunctions_ReadsEveryPartOfEachDefinition()
    {
        var tools = Read(OpenAI, $$"""[{"name":"lookup","description":"Looks things up.","parameters":{{Parameters}},"strict":true},{"name":"now"}]""");

        Assert.Equal(
            [
                new ToolDefinition { Name = "lookup", Description = "Looks things up.", ParametersJson = Parameters, Strict = true },
                new ToolDefinition { Name = "now" },
            ],
            tools);
    }

    [Fact]
    public void ReadTools_SchemaUnderTheWiresName_ReadsIt()
    {
        var tools = Read(Anthropic, $$"""[{"name":"lookup","input_schema":{{Parameters}}}]""");

        Assert.Equal(Parameters, Assert.Single(tools).ParametersJson);
    }

    [Fact]
    public void ReadTools_Null_ReturnsNoTools()
    {
        Assert.Empty(Read(OpenAI, "null"));
    }

    [Fact]
    public void ReadTools_NotAnArray_ThrowsNamingTools()
    {
        var error = Assert.Throws<GatewayException>(() => Read(OpenAI, """{"name":"lookup"}"""));

        Assert.Equal(GatewayError.InvalidRequest, error.Error);
        Assert.Equal("tools", error.Param);
        Assert.Equal("Invalid type for 'tools': expected an array, but got an object instead.", error.Message);
    }

    [Theory]
    [InlineData("""[{"name":"f","parameters":"{}"}]""", "tools[0].parameters", "Invalid type for 'tools[0].parameters': expected an object, but got a string instead.")]
    [InlineData("""[{"name":"f"},{"description":"d"}]""", "tools[1].name", "'tools[1].name' is a required property")]
    [InlineData("""[{"name":5}]""", "tools[0].name", "Invalid type for 'tools[0].name': expected a string, but got a number instead.")]
    [InlineData("""[{"name":null}]""", "tools[0].name", "Invalid type for 'tools[0].name': expected a string, but got null instead.")]
    [InlineData("""[{"name":"f","description":5}]""", "tools[0].description", "Invalid type for 'tools[0].description': expected a string, but got a number instead.")]
    [InlineData("""[{"name":"f","strict":"yes"}]""", "tools[0].strict", "Invalid type for 'tools[0].strict': expected a boolean, but got a string instead.")]
    public void ReadFunction_BadDefinition_ThrowsNamingTheField(string json, string param, string message)
    {
        var error = Assert.Throws<GatewayException>(() => Read(OpenAI, json));

        Assert.Equal(GatewayError.InvalidRequest, error.Error);
        Assert.Equal(param, error.Param);
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void ReadFunction_MissingNameOnAnthropicsWire_ThrowsInItsWordingAndPath()
    {
        var error = Assert.Throws<GatewayException>(() => Read(Anthropic, """[{"name":"f","input_schema":{}},{"input_schema":{}}]"""));

        Assert.Equal("tools.1.name", error.Param);
        Assert.Equal("tools.1.name: Field required", error.Message);
    }

    [Fact]
    public void ReadFunction_NullNameWhereNullIsMissing_ThrowsRequired()
    {
        var reader = new ToolDefinitionReader(new JsonFieldReader(OpenAIRequestReader.Wording, nullIsMissing: true));

        var error = Assert.Throws<GatewayException>(() => Read(reader, """[{"name":null}]"""));

        Assert.Equal("tools[0].name", error.Param);
        Assert.Equal("'tools[0].name' is a required property", error.Message);
    }

    private static IReadOnlyList<ToolDefinition> Read(ToolDefinitionReader reader, string tools) =>
        reader.ReadTools(JsonSerializer.Deserialize<JsonElement>(tools), reader.ReadFunction);
}
