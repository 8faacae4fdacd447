using System.Buffers.Text;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Unicode;

namespace Gatehouse.Silo.Http;

/// <summary>
/// Finds the first string in a JSON document that cannot become .NET text: invalid UTF-8 bytes, or a <c>\u</c> escape
/// of a lone surrogate. The parser accepts both, and reading such a string later would fail with an internal error.
/// </summary>
/// <remarks>
/// Works on the raw bytes the document already holds, so a valid body costs one pass and no allocation (reading the
/// strings instead would allocate each one twice); only a body that fails pays for a second pass that builds the path.
/// </remarks>
internal static class JsonUnicodeCheck
{
    /// <param name="index">How the vendor writes an array item's path: OpenAI <c>messages[0]</c>, Anthropic <c>messages.0</c>.</param>
    public static InvalidJsonString? Find(JsonElement root, Func<string, int, string> index) =>
        IsAllText(root) ? null : Find(root, "", index);

    /// <summary>The pass every request pays: no paths built, nothing allocated.</summary>
    private static bool IsAllText(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return IsText(JsonMarshal.GetRawUtf8Value(element)[1..^1]);
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    if (!IsAllText(item))
                    {
                        return false;
                    }
                }

                return true;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (!IsText(JsonMarshal.GetRawUtf8PropertyName(property)) || !IsAllText(property.Value))
                    {
                        return false;
                    }
                }

                return true;
            default:
                return true;
        }
    }

    /// <summary>The pass only a bad body pays: it builds the path to the first broken string.</summary>

    private static InvalidJsonString? Find(JsonElement element, string path, Func<string, int, string> index)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return IsText(JsonMarshal.GetRawUtf8Value(element)[1..^1]) ? null : new InvalidJsonString(path, IsPropertyName: false);
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (Find(item, index(path, i++), index) is { } found)
                    {
                        return found;
                    }
                }

                return null;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (!IsText(JsonMarshal.GetRawUtf8PropertyName(property)))
                    {
                        return new InvalidJsonString(path, IsPropertyName: true);
                    }

                    if (Find(property.Value, path.Length == 0 ? property.Name : $"{path}.{property.Name}", index) is { } found)
                    {
                        return found;
                    }
                }

                return null;
            default:
                return null;
        }
    }

    /// <summary>Whether raw (still escaped) JSON string bytes are valid UTF-8 whose escapes pair every surrogate.</summary>
    internal static bool IsText(ReadOnlySpan<byte> raw)
    {
        if (!Utf8.IsValid(raw))
        {
            return false;
        }

        // The parser has checked every escape is well formed, so a backslash is always followed by one more byte, or by
        // 'u' and four hex digits.
        var pendingHigh = false;
        var i = raw.IndexOf((byte)'\\');
        while (i >= 0)
        {
            if (raw[i + 1] == (byte)'u')
            {
                Utf8Parser.TryParse(raw.Slice(i + 2, 4), out ushort unit, out _, 'X');
                var isLow = unit is >= 0xDC00 and <= 0xDFFF;
                if (isLow != pendingHigh)
                {
                    return false;
                }

                pendingHigh = unit is >= 0xD800 and <= 0xDBFF;
                i += 6;
                if (pendingHigh)
                {
                    if (i + 1 >= raw.Length || raw[i] != (byte)'\\' || raw[i + 1] != (byte)'u')
                    {
                        return false;
                    }

                    continue;
                }
            }
            else
            {
                i += 2;
            }

            var next = raw[i..].IndexOf((byte)'\\');
            i = next < 0 ? -1 : i + next;
        }

        return !pendingHigh;
    }
}
