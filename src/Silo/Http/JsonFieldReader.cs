using System.Text.Json;
using Gatehouse.Errors;

namespace Gatehouse.Silo.Http;

/// <summary>
/// Typed reads of request-body fields that fail with a 400 naming the field, worded as the vendor whose API the
/// front end speaks (OpenAI and Anthropic phrase the same mistakes differently).
/// </summary>
internal sealed class JsonFieldReader(JsonFieldReader.Wording wording)
{
    /// <summary>How a vendor words a wrong type, a number out of range, and an integer below its minimum.</summary>
    internal sealed record Wording(
        Func<string, string, string, string> WrongType,
        Func<string, double, double, double, string> OutOfRange,
        Func<string, int, int, string> BelowMinimum);

    public string ReadString(JsonElement value, string path) =>
        value.ValueKind == JsonValueKind.String ? value.GetString()! : throw WrongType(path, "a string", value);

    public bool ReadBool(JsonElement value, string path) => value.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw WrongType(path, "a boolean", value),
    };

    /// <summary>A number within [min, max], or null for JSON null.</summary>
    public double? ReadNumber(JsonElement value, string path, double min, double max)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number)
        {
            throw WrongType(path, "a number", value);
        }

        var number = value.GetDouble();
        return number >= min && number <= max ? number : throw Invalid(wording.OutOfRange(path, number, min, max), path);
    }

    public int ReadInt(JsonElement value, string path, int min)
    {
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var number))
        {
            throw WrongType(path, "an integer", value);
        }

        return number >= min ? number : throw Invalid(wording.BelowMinimum(path, number, min), path);
    }

    public long ReadLong(JsonElement value, string path) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) ? number : throw WrongType(path, "an integer", value);

    public GatewayException WrongType(string path, string expected, JsonElement actual) =>
        Invalid(wording.WrongType(path, expected, Describe(actual.ValueKind)), path);

    public static GatewayException Invalid(string message, string? param) => new(GatewayError.InvalidRequest, message, param);

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        JsonValueKind.Undefined => "nothing",
        _ => "null",
    };
}
