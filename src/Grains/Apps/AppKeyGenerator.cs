using System.Security.Cryptography;

namespace Gatehouse.Apps;

/// <summary>Makes new app keys and key ids from the operating system's CSPRNG.</summary>
public static class AppKeyGenerator
{
    public const string KeyPrefix = "gk-";

    /// <summary>How many characters of a key the admin API shows to recognise it (<c>gk-</c> and four more).</summary>
    public const int ShownPrefixLength = 7;

    private const string UrlSafe = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    /// <summary>A new key: <c>gk-</c> and 40 url-safe characters (240 bits).</summary>
    public static string NewKey() => KeyPrefix + RandomNumberGenerator.GetString(UrlSafe, 40);

    /// <summary>A new key id, e.g. <c>key_Q3f…</c>: random, so it says nothing about the key.</summary>
    public static string NewKeyId() => "key_" + RandomNumberGenerator.GetString(UrlSafe.AsSpan(0, 62), 16);

    public static string PrefixOf(string key) => key[..Math.Min(ShownPrefixLength, key.Length)];
}
