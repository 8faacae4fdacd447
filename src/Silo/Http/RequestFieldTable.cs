using System.Collections.Frozen;
using System.Text.Json;

namespace Gatehouse.Silo.Http;

/// <summary>
/// What a front end does with the top-level fields of a request body that its reader does not read itself: a field
/// that would change the answer and that no canonical request can carry is unsupported (a 400 naming it, unless its
/// value is null), a field that cannot change the answer is ignored (accepted without effect), and any other name is
/// the vendor's "unrecognized" 400.
/// </summary>
/// <remarks>
/// A reader walks <see cref="Properties"/>, reads the fields it knows in a switch on the name, and hands every other
/// property to <see cref="ReadOther"/>. A name the reader reads never reaches the table, so a reader may accept some
/// values of an unsupported field (OpenAI's <c>modalities: ["text"]</c>) by reading them before the table refuses the rest.
/// </remarks>
internal sealed class RequestFieldTable
{
    private readonly JsonFieldReader fields;
    private readonly FrozenDictionary<string, string> unsupported;

    /// <param name="fields">Reads the body, in the vendor's wording.</param>
    /// <param name="unsupported">The unsupported fields, each with the message of its 400 (<see cref="NotSupported"/> gives the usual one).</param>
    /// <param name="ignored">The fields accepted without effect.</param>
    public RequestFieldTable(JsonFieldReader fields, IEnumerable<KeyValuePair<string, string>> unsupported, IEnumerable<string> ignored)
    {
        this.fields = fields;
        this.unsupported = unsupported.ToFrozenDictionary(StringComparer.Ordinal);
        Ignored = ignored.ToFrozenSet(StringComparer.Ordinal);
    }

    /// <summary>The fields accepted without effect.</summary>
    public FrozenSet<string> Ignored { get; }

    /// <summary>The fields refused unless null.</summary>
    public IEnumerable<string> Unsupported => unsupported.Keys;

    /// <summary>Unsupported fields whose 400 says only that Gatehouse does not support them.</summary>
    public static IEnumerable<KeyValuePair<string, string>> NotSupported(params string[] names) =>
        names.Select(name => KeyValuePair.Create(name, $"Gatehouse does not support '{name}'."));

    /// <summary>The body's top-level properties in order, once the body is known to be a JSON object of valid UTF-8 text.</summary>
    public JsonElement.ObjectEnumerator Properties(JsonElement body)
    {
        fields.EnsureBody(body);
        return body.EnumerateObject();
    }

    /// <summary>Accepts a top-level property the reader does not read, or fails naming it.</summary>
    public void ReadOther(JsonProperty property)
    {
        if (unsupported.TryGetValue(property.Name, out var message))
        {
            if (property.Value.ValueKind != JsonValueKind.Null)
            {
                throw JsonFieldReader.Invalid(message, property.Name);
            }
        }
        else if (!Ignored.Contains(property.Name))
        {
            throw fields.Unrecognized(property.Name);
        }
    }
}
