using System.Collections.Immutable;
using System.Text.Json;
using Gatehouse.Chat;

namespace Gatehouse.Silo.Http;

/// <summary>
/// Reads a request's function tools into <see cref="ToolDefinition"/>s, for every front end: the <c>tools</c> array, and
/// each function's parameters schema, name, description and strict flag. The wire checks the envelope around each
/// definition (the tool's type, and where the definition sits); the definition's checks and errors are shared.
/// </summary>
/// <param name="fields">Reads the body, in the vendor's wording.</param>
/// <param name="schemaField">The field holding the parameters' JSON schema (Anthropic calls it <c>input_schema</c>).</param>
internal sealed class ToolDefinitionReader(JsonFieldReader fields, string schemaField = "parameters")
{
    /// <summary>The <c>tools</c> array: null is no tools; <paramref name="readTool"/> reads each item, given its path.</summary>
    public ImmutableArray<ToolDefinition> ReadTools(JsonElement value, Func<JsonElement, string, ToolDefinition> readTool)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw fields.WrongType("tools", "an array", value);
        }

        var tools = ImmutableArray.CreateBuilder<ToolDefinition>(value.GetArrayLength());
        var index = 0;
        foreach (var tool in value.EnumerateArray())
        {
            tools.Add(readTool(tool, fields.Index("tools", index++)));
        }

        return tools.MoveToImmutable();
    }

    /// <summary>
    /// One function's definition, the object at <paramref name="path"/>: its schema (an object) if any, its name, and
    /// its description and strict flag if any. The wire has already refused fields the definition may not hold.
    /// </summary>
    public ToolDefinition ReadFunction(JsonElement definition, string path)
    {
        var parameters = fields.ReadOptionalObjectJson(definition, schemaField, path);
        return new ToolDefinition
        {
            Name = fields.ReadRequiredString(definition, "name", path),
            Description = fields.ReadOptionalString(definition, "description", path),
            ParametersJson = parameters,
            Strict = fields.ReadOptionalBool(definition, "strict", path),
        };
    }
}
