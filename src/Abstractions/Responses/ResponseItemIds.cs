namespace Gatehouse.Responses;

/// <summary>
/// Ids of a response and of its output items. An item's id is derived from the response's id and its place in the
/// output, so the answer, its stream and every later <c>GET</c> name the same item the same way.
/// </summary>
public static class ResponseItemIds
{
    public const string ResponsePrefix = "resp_";

    public static string NewResponseId() => ResponsePrefix + Guid.NewGuid().ToString("N");

    /// <summary><c>msg_…</c> for the message item at <paramref name="outputIndex"/>.</summary>
    public static string Message(string responseId, int outputIndex) => Item("msg_", responseId, outputIndex);

    /// <summary><c>fc_…</c> for the function call item at <paramref name="outputIndex"/>.</summary>
    public static string FunctionCall(string responseId, int outputIndex) => Item("fc_", responseId, outputIndex);

    /// <summary>The id of an input item (<c>GET …/input_items</c>) at <paramref name="inputIndex"/> of the response's own input.</summary>
    public static string Input(string responseId, int inputIndex) => Item("in_", responseId, inputIndex);

    private static string Item(string prefix, string responseId, int index) =>
        string.Concat(prefix, responseId.StartsWith(ResponsePrefix, StringComparison.Ordinal) ? responseId[ResponsePrefix.Length..] : responseId, "_", index.ToString(System.Globalization.CultureInfo.InvariantCulture));
}
