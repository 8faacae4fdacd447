using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Text.Json;
using Gatehouse.Embeddings;
using Gatehouse.Silo.Http.OpenAI;

namespace Gatehouse.Silo.Http.Embeddings;

/// <summary>
/// Reads an OpenAI Embeddings request body into the canonical <see cref="EmbeddingRequest"/>: <c>model</c>, <c>input</c>
/// (a string or an array of strings), <c>encoding_format</c>, <c>dimensions</c>, <c>user</c>. Anything else, and
/// inputs given as token ids, is a 400 naming the field in OpenAI's wording.
/// </summary>
internal static class EmbeddingsRequestReader
{
    /// <summary>OpenAI's limit on the number of inputs in one request.</summary>
    public const int MaxInputs = 2048;

    /// <summary>The largest <c>dimensions</c> accepted (OpenAI's largest embedding model has 3072).</summary>
    public const int MaxDimensions = 16384;

    private static readonly JsonFieldReader Fields = new(OpenAIRequestReader.Wording);
    private static readonly FrozenSet<string> KnownFields = FrozenSet.Create("model", "input", "encoding_format", "dimensions", "user");

    public static (EmbeddingRequest Request, EmbeddingEncoding Encoding) Read(JsonElement root)
    {
        Fields.EnsureBody(root);
        Fields.EnsureKnown(root, "", KnownFields);
        var model = root.TryGetProperty("model", out var m) && m.ValueKind != JsonValueKind.Null ? Fields.ReadString(m, "model") : null;
        if (string.IsNullOrWhiteSpace(model))
        {
            throw JsonFieldReader.Invalid("you must provide a model parameter", "model");
        }

        if (!root.TryGetProperty("input", out var input) || input.ValueKind == JsonValueKind.Null)
        {
            throw JsonFieldReader.Invalid("'input' is a required property", "input");
        }

        var encoding = EmbeddingEncoding.Float;
        if (root.TryGetProperty("encoding_format", out var format) && format.ValueKind != JsonValueKind.Null)
        {
            encoding = Fields.ReadString(format, "encoding_format") switch
            {
                "float" => EmbeddingEncoding.Float,
                "base64" => EmbeddingEncoding.Base64,
                var other => throw JsonFieldReader.Invalid(
                    $"Invalid value for 'encoding_format': '{other}'. Supported values are: 'float' and 'base64'.", "encoding_format"),
            };
        }

        int? dimensions = null;
        if (root.TryGetProperty("dimensions", out var d) && d.ValueKind != JsonValueKind.Null)
        {
            dimensions = Fields.ReadInt(d, "dimensions", 1);
            if (dimensions > MaxDimensions)
            {
                throw JsonFieldReader.Invalid($"Invalid 'dimensions': {dimensions}; it must be at most {MaxDimensions}.", "dimensions");
            }
        }

        var user = root.TryGetProperty("user", out var u) && u.ValueKind != JsonValueKind.Null ? Fields.ReadString(u, "user") : null;
        return (new EmbeddingRequest { Model = model, Inputs = ReadInputs(input), Dimensions = dimensions, User = user }, encoding);
    }

    private static ImmutableArray<string> ReadInputs(JsonElement input)
    {
        switch (input.ValueKind)
        {
            case JsonValueKind.String:
                return [NonEmpty(input.GetString()!, "input")];
            case JsonValueKind.Array:
                var count = input.GetArrayLength();
                if (count == 0)
                {
                    throw JsonFieldReader.Invalid("Invalid 'input': empty array. Expected an array with minimum length 1.", "input");
                }

                if (count > MaxInputs)
                {
                    throw JsonFieldReader.Invalid($"Invalid 'input': array too long. Expected an array with maximum length {MaxInputs}, but got an array with length {count} instead.", "input");
                }

                var inputs = ImmutableArray.CreateBuilder<string>(count);
                var index = 0;
                foreach (var item in input.EnumerateArray())
                {
                    var path = $"input[{index++}]";
                    inputs.Add(item.ValueKind switch
                    {
                        JsonValueKind.String => NonEmpty(item.GetString()!, path),
                        JsonValueKind.Number or JsonValueKind.Array => throw TokenIds(path),
                        _ => throw Fields.WrongType(path, "a string", item),
                    });
                }

                return inputs.MoveToImmutable();
            default:
                throw Fields.WrongType("input", "a string or an array of strings", input);
        }
    }

    private static string NonEmpty(string text, string path) =>
        text.Length > 0 ? text : throw JsonFieldReader.Invalid($"Invalid '{path}': empty string. Expected a string with minimum length 1.", path);

    private static Errors.GatewayException TokenIds(string path) => JsonFieldReader.Invalid(
        $"Invalid '{path}': Gatehouse embeds text only; send the input as a string rather than token ids (its targets may use different tokenizers).", path);
}
