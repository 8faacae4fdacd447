using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using Gatehouse.Embeddings;

namespace Gatehouse.Caching;

/// <summary>
/// The cache keys of embeddings: one per input — SHA-256 over a version salt, the cache namespace, the alias, the
/// dimensions and the input — and one per flight, over the keys of the inputs it computes.
/// </summary>
/// <remarks>The salt differs from <see cref="RequestHasher.VersionSalt"/>, so an input key never equals a chat request's. Thread-safe.</remarks>
public static class EmbeddingCacheKeys
{
    public const string VersionSalt = "gatehouse-embeddings-v1";

    /// <summary>The key of each of the request's inputs, in order.</summary>
    public static ImmutableArray<string> ForInputs(string cacheNamespace, EmbeddingRequest request)
    {
        var prefix = $"{VersionSalt}\n{cacheNamespace.Length}:{cacheNamespace}\n{request.Model.Length}:{request.Model}\n{request.Dimensions?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}\n";
        var keys = ImmutableArray.CreateBuilder<string>(request.Inputs.Length);
        foreach (var input in request.Inputs)
        {
            keys.Add(Hash(prefix + input));
        }

        return keys.MoveToImmutable();
    }

    /// <summary>The single-flight key of a call computing the inputs of <paramref name="inputKeys"/>, in that order.</summary>
    public static string ForFlight(IEnumerable<string> inputKeys) => Hash($"{VersionSalt}\nflight\n{string.Join('\n', inputKeys)}");

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
