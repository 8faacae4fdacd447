using System.Text.Json;
using Gatehouse.Errors;

namespace Gatehouse.Silo.Http;

/// <summary>
/// Typed reads of request-body fields that fail with a 400 naming the field, worded as the vendor whose API the
/// front end speaks (OpenAI and Anthropic phrase the same mistakes differently).
/// </summary>
/// <param name="wording">How the vendor words each mistake.</param>
/// <param name="nullIsMissing">
/// Whether <see cref="ReadRequiredString"/> reports a null value as missing (as the Responses API reader does) rather
/// than as a wrong type.
/// </param>
internal sealed class JsonFieldReader(JsonFieldReader.Wording wording, bool nullIsMissing = false)
{
    /// <summary>
    /// How a vendor words a wrong type, a number out of range, an integer below its minimum, a field it does not know,
    /// a required field that is missing, and a string that is not text (its path, and whether it is a property name in
    /// the object at that path), and how it writes the path of an array item.
    /// </summary>
    internal sealed record Wording(
        Func<string, string, string, string> WrongType,
        Func<string, double, double, double, string> OutOfRange,
        Func<string, int, int, string> BelowMinimum,
        Func<string, string> Unrecognized,
        Func<string, string> Required,
        Func<string, bool, string> NotText,
        Func<string, int, string> Index);

    /// <summary>Fails unless the request body is a JSON object of valid UTF-8 text.</summary>
    public void EnsureBody(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw Invalid("The request body must be a JSON object.", null);
        }

        EnsureText(root);
    }

    /// <summary>Fails on the first string (value or property name) in the body that is not valid UTF-8 text.</summary>
    /// <remarks>Run before reading any field: every later read can then take strings and names as they are.</remarks>
    public void EnsureText(JsonElement root)
    {
        if (JsonUnicodeCheck.Find(root, wording.Index) is { } invalid)
        {
            throw Invalid(wording.NotText(invalid.Path, invalid.IsPropertyName), invalid.Path.Length == 0 ? null : invalid.Path);
        }
    }

    /// <summary>Fails naming the first property of <paramref name="value"/> that is not in <paramref name="known"/>.</summary>
    public void EnsureKnown(JsonElement value, string path, IReadOnlySet<string> known)
    {
        foreach (var property in value.EnumerateObject())
        {
            if (!known.Contains(property.Name))
            {
                throw Unrecognized(path.Length == 0 ? property.Name : $"{path}.{property.Name}");
            }
        }
    }

    public GatewayException Unrecognized(string path) => Invalid(wording.Unrecognized(path), path);

    public GatewayException Required(string path) => Invalid(wording.Required(path), path);

    /// <summary>The path of item <paramref name="index"/> of the array at <paramref name="path"/>, as the vendor writes it.</summary>
    public string Index(string path, int index) => wording.Index(path, index);

    /// <summary>The string <paramref name="name"/> of <paramref name="parent"/> (at <paramref name="path"/>); a 400 when it is missing.</summary>
    public string ReadRequiredString(JsonElement parent, string name, string path) =>
        parent.TryGetProperty(name, out var value) && !(nullIsMissing && value.ValueKind == JsonValueKind.Null)
            ? ReadString(value, $"{path}.{name}")
            : throw Required($"{path}.{name}");

    /// <summary>The string <paramref name="name"/> of <paramref name="parent"/>, or null when it is missing or null.</summary>
    public string? ReadOptionalString(JsonElement parent, string name, string path) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? ReadString(value, $"{path}.{name}") : null;

    /// <summary>The boolean <paramref name="name"/> of <paramref name="parent"/>, or null when it is missing or null.</summary>
    public bool? ReadOptionalBool(JsonElement parent, string name, string path) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? ReadBool(value, $"{path}.{name}") : null;

    /// <summary>The object <paramref name="name"/> of <paramref name="parent"/> as raw JSON, or null when it is missing or null.</summary>
    public string? ReadOptionalObjectJson(JsonElement parent, string name, string path) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value.ValueKind == JsonValueKind.Object ? value.GetRawText() : throw WrongType($"{path}.{name}", "an object", value)
            : null;

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
