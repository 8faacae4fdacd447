using System.Text;

namespace Gatehouse.Providers;

/// <summary>Reads the part of an upstream body that classifying a failure needs, and no more.</summary>
internal static class UpstreamBodies
{
    /// <summary>The most of a body read to classify it: error envelopes are small, and anything longer is not one.</summary>
    public const int MaxClassifiedBytes = 64 * 1024;

    /// <summary>The response's <c>Retry-After</c> header as the upstream wrote it (seconds, or an HTTP date); null when absent.</summary>
    public static string? RetryAfterHeader(HttpResponseMessage response) =>
        response.Headers.RetryAfter?.Delta?.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)
        ?? response.Headers.RetryAfter?.Date?.ToString("r", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The first <see cref="MaxClassifiedBytes"/> of <paramref name="content"/> as UTF-8 text; null when it cannot be read.</summary>
    public static async Task<string?> ReadStartAsync(HttpContent content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        try
        {
            var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                return await ReadStartAsync(stream, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or InvalidOperationException)
        {
            // Without the body the status alone still classifies the failure.
            return null;
        }
    }

    /// <summary>The first <see cref="MaxClassifiedBytes"/> of <paramref name="stream"/> as UTF-8 text; null when it cannot be read.</summary>
    public static async Task<string?> ReadStartAsync(Stream stream, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        try
        {
            var buffer = new byte[MaxClassifiedBytes];
            var length = 0;
            int read;
            while (length < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false)) > 0)
            {
                length += read;
            }

            return Encoding.UTF8.GetString(buffer, 0, length);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            return null;
        }
    }
}
