using System.Collections.Frozen;
using System.Text.Json;
using Gatehouse.Chat;

namespace Gatehouse.Silo.Http;

/// <summary>
/// Reads the format a request asks the answer in (OpenAI's <c>response_format</c> in Chat Completions, <c>text.format</c>
/// in the Responses API) into a <see cref="ResponseFormat"/>: <c>text</c>, <c>json_object</c>, or <c>json_schema</c>,
/// whose definition each wire keeps in its own place (nested under <c>json_schema</c>, or beside the type).
/// </summary>
internal sealed class ResponseFormatReader(JsonFieldReader fields)
{
    private static readonly FrozenSet<string> TypeOnlyFields = FrozenSet.Create("type");

    /// <summary>
    /// The format object at <paramref name="path"/>, or null for JSON null. A <c>json_schema</c> format is read by
    /// <paramref name="readJsonSchema"/>, given the format object and its path.
    /// </summary>
    public ResponseFormat? Read(JsonElement value, string path, Func<JsonElement, string, ResponseFormat> readJsonSchema)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Object || !value.TryGetProperty("type", out var type))
        {
            throw JsonFieldReader.Invalid($"'{path}' must be an object with a 'type'.", path);
        }

        switch (fields.ReadString(type, $"{path}.type"))
        {
            case "text":
                fields.EnsureKnown(value, path, TypeOnlyFields);
                return new ResponseFormat { Kind = ResponseFormatKind.Text };
            case "json_object":
                fields.EnsureKnown(value, path, TypeOnlyFields);
                return new ResponseFormat { Kind = ResponseFormatKind.JsonObject };
            case "json_schema":
                return readJsonSchema(value, path);
            case var other:
                throw JsonFieldReader.Invalid(
                    $"Invalid value for '{path}.type': '{other}'. Supported values are: 'text', 'json_object' and 'json_schema'.", $"{path}.type");
        }
    }

    /// <summary>Fails if the schema definition at <paramref name="path"/> has a description.</summary>
    /// <remarks>A description steers what the model writes, and the canonical format has no place for it.</remarks>
    public void RefuseDescription(JsonElement definition, string path)
    {
        if (definition.TryGetProperty("description", out var description) && description.ValueKind != JsonValueKind.Null)
        {
            throw JsonFieldReader.Invalid($"Gatehouse does not support '{path}.description'.", $"{path}.description");
        }
    }

    /// <summary>
    /// A JSON schema format from its definition, the object at <paramref name="path"/>: its name, and its schema (an
    /// object) and strict flag if any. The wire has already refused fields the definition may not hold.
    /// </summary>
    public ResponseFormat ReadJsonSchema(JsonElement definition, string path) => new()
    {
        Kind = ResponseFormatKind.JsonSchema,
        SchemaName = fields.ReadRequiredString(definition, "name", path),
        SchemaJson = fields.ReadOptionalObjectJson(definition, "schema", path),
        Strict = fields.ReadOptionalBool(definition, "strict", path),
    };
}
