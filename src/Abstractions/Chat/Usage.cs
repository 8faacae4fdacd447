namespace Gatehouse.Chat;

[GenerateSerializer, Immutable, Alias("gatehouse.Usage")]
public sealed record Usage
{
    [Id(0)] public int PromptTokens { get; init; }
    [Id(1)] public int CompletionTokens { get; init; }
    /// <summary>Of <see cref="PromptTokens"/>, those the upstream read from its own prompt cache (billed at a lower rate); 0 when it does not say.</summary>
    [Id(2)] public int CachedPromptTokens { get; init; }
    public int TotalTokens => PromptTokens + CompletionTokens;
}
