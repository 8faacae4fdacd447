using System.Buffers.Text;

namespace Gatehouse.Silo.Http;

/// <summary>
/// Which image URLs a request may carry to an upstream: <c>https:</c> URLs and well-formed base64 <c>data:</c> URIs,
/// plus <c>http:</c> URLs when the operator allows them (<c>Gatehouse:AllowHttpImageUrls</c>).
/// </summary>
/// <remarks>
/// An upstream such as a local model server may fetch the URL itself, so any other scheme (<c>file:</c>,
/// <c>gopher:</c>, ...) would let a caller make the gateway's network read local files or talk to internal services.
/// </remarks>
internal sealed class ImageUrlPolicy
{
    public static readonly ImageUrlPolicy HttpsOnly = new(allowHttp: false);
    public static readonly ImageUrlPolicy HttpAllowed = new(allowHttp: true);

    private ImageUrlPolicy(bool allowHttp) => AllowsHttp = allowHttp;

    public bool AllowsHttp { get; }

    public static ImageUrlPolicy For(bool allowHttp) => allowHttp ? HttpAllowed : HttpsOnly;

    /// <summary>What the URL may be, for error messages.</summary>
    public string Allowed => AllowsHttp ? "an https: or http: URL or a base64 data: URI" : "an https: URL or a base64 data: URI";

    public bool IsAllowed(string url)
    {
        if (url.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            return IsWellFormedDataUri(url.AsSpan(5));
        }

        return Uri.TryCreate(url, UriKind.Absolute, out var uri)
            && (uri.Scheme == Uri.UriSchemeHttps || (AllowsHttp && uri.Scheme == Uri.UriSchemeHttp))
            && uri.Host.Length > 0
            && uri.UserInfo.Length == 0;
    }

    /// <summary><c>image/&lt;subtype&gt;;base64,&lt;base64&gt;</c>: the only form every upstream accepts for inline images.</summary>
    private static bool IsWellFormedDataUri(ReadOnlySpan<char> rest)
    {
        var comma = rest.IndexOf(',');
        if (comma < 0)
        {
            return false;
        }

        var header = rest[..comma];
        const string Base64Suffix = ";base64";
        if (!header.EndsWith(Base64Suffix, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var mediaType = header[..^Base64Suffix.Length];
        var slash = mediaType.IndexOf('/');
        return mediaType.StartsWith("image/", StringComparison.OrdinalIgnoreCase)
            && slash == 5 && mediaType.Length > 6 && !mediaType[6..].ContainsAny("/;, ")
            && rest.Length > comma + 1 && Base64.IsValid(rest[(comma + 1)..]);
    }
}
