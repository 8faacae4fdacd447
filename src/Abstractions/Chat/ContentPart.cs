namespace Gatehouse.Chat;

/// <summary>A part of a message's content: text, or an image given by URL (http(s) or a data: URI).</summary>
[GenerateSerializer, Immutable, Alias("gatehouse.ContentPart")]
public sealed record ContentPart
{
    [Id(0)] public required ContentPartKind Kind { get; init; }
    [Id(1)] public string? Text { get; init; }
    [Id(2)] public string? ImageUrl { get; init; }
    /// <summary>OpenAI's image <c>detail</c> (auto, low, high).</summary>
    [Id(3)] public string? ImageDetail { get; init; }

    public static ContentPart FromText(string text) => new() { Kind = ContentPartKind.Text, Text = text };
}
