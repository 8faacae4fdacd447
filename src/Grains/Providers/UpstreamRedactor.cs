using System.Collections.Immutable;
using System.Text.RegularExpressions;
using Gatehouse.Configuration;

namespace Gatehouse.Providers;

/// <summary>
/// Removes anything that looks like a credential from upstream text (error messages, error params, log details)
/// before it leaves the gateway: the configured provider keys by value, then bearer tokens, <c>sk-…</c> keys and
/// <c>x-api-key</c> / <c>api_key</c> / <c>authorization</c> assignments.
/// </summary>
/// <remarks>
/// Immutable and thread-safe. Upstreams quote the request back in their errors (a 400 naming the headers it saw), so
/// their text is untrusted; keys are matched by value because a vendor's key format is not guaranteed to match a
/// pattern. The text passed on is also capped in length: an error message is a sentence, not a document.
/// </remarks>
public sealed partial class UpstreamRedactor
{
    /// <summary>What a redacted credential is replaced with.</summary>
    public const string Mask = "[REDACTED]";

    /// <summary>The most characters of upstream text passed on; longer text is cut and marked with an ellipsis.</summary>
    public const int MaxTextChars = 1024;

    /// <summary>
    /// Configured keys shorter than this are not matched by value: replacing every occurrence of a two-letter "key"
    /// would shred the message without protecting anything a real key needs protected.
    /// </summary>
    public const int MinSecretChars = 8;

    private readonly ImmutableArray<string> _secrets;

    /// <param name="secrets">The values to remove wherever they occur (null, empty and too-short values are ignored).</param>
    public UpstreamRedactor(IEnumerable<string?> secrets)
    {
        ArgumentNullException.ThrowIfNull(secrets);

        // Longest first, so a key that contains another is removed whole.
        _secrets = [.. secrets
            .Where(s => s is { Length: >= MinSecretChars })
            .Select(s => s!)
            .Distinct(StringComparer.Ordinal)
            .OrderByDescending(s => s.Length)];
    }

    /// <summary>A redactor that knows no key values and applies the credential patterns only.</summary>
    public static UpstreamRedactor PatternsOnly { get; } = new([]);

    /// <summary>A redactor for the keys of every configured provider (resolving <c>env:NAME</c>).</summary>
    public static UpstreamRedactor ForProviders(IEnumerable<ProviderOptions> providers)
    {
        ArgumentNullException.ThrowIfNull(providers);
        return new UpstreamRedactor(providers.Select(p => SecretValue.Resolve(p.ApiKey)));
    }

    /// <summary>A redactor for one provider's key.</summary>
    public static UpstreamRedactor ForProvider(ProviderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new UpstreamRedactor([SecretValue.Resolve(options.ApiKey)]);
    }

    /// <summary>A redactor that also knows the keys of <paramref name="other"/>.</summary>
    public UpstreamRedactor With(UpstreamRedactor other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new UpstreamRedactor(_secrets.Concat(other._secrets));
    }

    /// <summary>Returns <paramref name="text"/> without credentials, capped at <see cref="MaxTextChars"/>; null stays null.</summary>
    public string? Redact(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text;
        }

        foreach (var secret in _secrets)
        {
            text = text.Replace(secret, Mask, StringComparison.Ordinal);
        }

        text = BearerToken().Replace(text, m => m.Groups["scheme"].Value + " " + Mask);
        text = BasicCredentials().Replace(text, "Basic " + Mask);
        text = SkKey().Replace(text, Mask);
        text = KeyAssignment().Replace(text, m => m.Groups["name"].Value + m.Groups["sep"].Value + Mask);
        return text.Length <= MaxTextChars ? text : string.Concat(text.AsSpan(0, MaxTextChars), "…");
    }

    /// <summary>
    /// <c>Bearer &lt;token&gt;</c>, in any case, whatever the token's alphabet; at least six characters, so that
    /// "the bearer of" stays prose.
    /// </summary>
    [GeneratedRegex(@"\b(?<scheme>Bearer)\s+(?!\[REDACTED\])[^\s'"",;]{6,}", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex BearerToken();

    /// <summary><c>Basic &lt;base64&gt;</c>: user and password in the Authorization header.</summary>
    [GeneratedRegex(@"\bBasic\s+[A-Za-z0-9+/=]{8,}", RegexOptions.CultureInvariant)]
    private static partial Regex BasicCredentials();

    /// <summary>OpenAI-style keys and their variants: <c>sk-…</c>, <c>sk-proj-…</c>, <c>sk-ant-api03-…</c>, masked <c>sk-****</c>.</summary>
    [GeneratedRegex(@"\bsk-[A-Za-z0-9_\-\*\.]{3,}", RegexOptions.CultureInvariant)]
    private static partial Regex SkKey();

    /// <summary>A credential given as a header or parameter: <c>x-api-key: …</c>, <c>api_key=…</c>, <c>"authorization": "…"</c>.</summary>
    [GeneratedRegex(
        @"(?<name>\b(?:x-api-key|api[_\-]?key|access[_\-]?token|auth[_\-]?token|authorization|secret)[""']?)(?<sep>\s*[:=]\s*[""']?)(?!(?:Bearer|Basic)\b|\[REDACTED\])[^\s'"",;&}]+",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex KeyAssignment();
}
