using System.Text.Json;
using Gatehouse.Chat;
using Gatehouse.Errors;
using Gatehouse.Silo.Http;
using Gatehouse.Silo.Http.OpenAI;
using Xunit;

namespace Gatehouse.Tests.Http;

public sealed class ResponseFormatReaderTests
{
    private const string Schema = """{"type":"object","properties":{"answer":{"type":"string"}}}""";

    private static readonly ResponseFormatReader Formats = new(new JsonFieldReader(OpenAIRequestReader.Wording));

    [Theory]
    [InlineData("""{"type":"text"}""", ResponseFormatKind.Text)]
    [InlineData("""{"type":"json_object"}""", ResponseFormatKind.JsonObject)]
    public void Read_TypeOnlyFormat_ReturnsItsKind(string json, ResponseFormatKind kind)
    {
        Assert.Equal(new ResponseFormat { Kind = kind }, Read(json));
    }

    [Fact]
    public void Read_Null_ReturnsNoFormat()
    {
        Assert.Null(Read("null"));
    }

    [Fact]
    public void Read_JsonSchema_ReadsNameSchemaAndStrict()
    {
        var format = Read($$"""{"type":"json_schema","name":"answer","schema":{{Schema}},"strict":true,"description":null}""");

        Assert.Equal(new ResponseFormat { Kind = ResponseFormatKind.JsonSchema, SchemaName = "answer", SchemaJson = Schema, Strict = true }, format);
    }

    [Theory]
    [InlineData("\"json\"", "text.format", "'text.format' must be an object with a 'type'.")]
    [InlineData("{}", "text.format", "'text.format' must be an object with a 'type'.")]
    [InlineData("""{"type":5}""", "text.format.type", "Invalid type for 'text.format.type': expected a string, but got a number instead.")]
    [InlineData("""{"type":"yaml"}""", "text.format.type", "Invalid value for 'text.format.type': 'yaml'. Supported values are: 'text', 'json_object' and 'json_schema'.")]
    [InlineData("""{"type":"json_object","schema":{}}""", "text.format.schema", "Unrecognized request argument supplied: text.format.schema")]
    [InlineData("""{"type":"json_schema","schema":{}}""", "text.format.name", "'text.format.name' is a required property")]
    [InlineData("""{"type":"json_schema","name":"a","schema":"{}"}""", "text.format.schema", "Invalid type for 'text.format.schema': expected an object, but got a string instead.")]
    [InlineData("""{"type":"json_schema","name":"a","strict":"yes"}""", "text.format.strict", "Invalid type for 'text.format.strict': expected a boolean, but got a string instead.")]
    [InlineData("""{"type":"json_schema","name":"a","description":"d"}""", "text.format.description", "Gatehouse does not support 'text.format.description'.")]
    public void Read_BadFormat_ThrowsNamingTheField(string json, string param, string message)
    {
        var error = Assert.Throws<GatewayException>(() => Read(json));

        Assert.Equal(GatewayError.InvalidRequest, error.Error);
        Assert.Equal(param, error.Param);
        Assert.Equal(message, error.Message);
    }

    /// <summary>Reads a format whose schema definition sits beside its type, as the Responses API's <c>text.format</c> does.</summary>
    private static ResponseFormat? Read(string json) =>
        Formats.Read(JsonSerializer.Deserialize<JsonElement>(json), "text.format", static (format, path) =>
        {
            Formats.RefuseDescription(format, path);
            return Formats.ReadJsonSchema(format, path);
        });
}
