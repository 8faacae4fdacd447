using System.Net;

namespace Gatehouse.Providers;

/// <summary>
/// Caps every upstream answer at a number of bytes, for every adapter alike: an answer whose <c>Content-Length</c> is
/// over the limit fails before its body is read, and any other answer fails as soon as the bytes read pass the limit,
/// so nothing past it is ever buffered (a single SSE or NDJSON line included, since it is part of the total).
/// </summary>
/// <remarks>
/// It also marks every failed read of a body, after the headers arrived, as an answer that broke rather than a
/// connection that never opened. Both failures surface as <see cref="UpstreamAnswerException"/>.
/// </remarks>
internal sealed class ResponseSizeLimitHandler : DelegatingHandler
{
    private readonly long _maxResponseBytes;

    public ResponseSizeLimitHandler(long maxResponseBytes, HttpMessageHandler innerHandler)
        : base(innerHandler)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxResponseBytes);
        _maxResponseBytes = maxResponseBytes;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.Content.Headers.ContentLength > _maxResponseBytes)
        {
            response.Dispose();
            throw UpstreamAnswerException.ExceededLimit(_maxResponseBytes);
        }

        response.Content = new LimitedContent(response.Content, _maxResponseBytes);
        return response;
    }

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = base.Send(request, cancellationToken);
        if (response.Content.Headers.ContentLength > _maxResponseBytes)
        {
            response.Dispose();
            throw UpstreamAnswerException.ExceededLimit(_maxResponseBytes);
        }

        response.Content = new LimitedContent(response.Content, _maxResponseBytes);
        return response;
    }

    /// <summary>The upstream's content, read through a <see cref="LimitedStream"/> whichever way it is read.</summary>
    private sealed class LimitedContent : HttpContent
    {
        private readonly HttpContent _inner;
        private readonly long _limit;

        public LimitedContent(HttpContent inner, long limit)
        {
            _inner = inner;
            _limit = limit;
            foreach (var header in inner.Headers)
            {
                Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            var source = await CreateContentReadStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (source.ConfigureAwait(false))
            {
                await source.CopyToAsync(stream, cancellationToken).ConfigureAwait(false);
            }
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override async Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) =>
            new LimitedStream(await _inner.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), _limit);

        protected override Task<Stream> CreateContentReadStreamAsync() => CreateContentReadStreamAsync(CancellationToken.None);

        protected override Stream CreateContentReadStream(CancellationToken cancellationToken) =>
            new LimitedStream(_inner.ReadAsStream(cancellationToken), _limit);

        protected override bool TryComputeLength(out long length)
        {
            // The upstream's Content-Length, if any, was copied with the headers; there is nothing to compute.
            length = 0;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>A read-only stream that fails once more than its limit has been read, and marks read failures as a broken answer.</summary>
    private sealed class LimitedStream(Stream inner, long limit) : Stream
    {
        private long _read;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int read;
            try
            {
                read = await inner.ReadAsync(Bound(buffer), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsBreak(ex))
            {
                throw UpstreamAnswerException.Broken(ex);
            }

            return Count(read);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(Span<byte> buffer)
        {
            int read;
            try
            {
                read = inner.Read(buffer[..Math.Min(buffer.Length, Allowed)]);
            }
            catch (Exception ex) when (IsBreak(ex))
            {
                throw UpstreamAnswerException.Broken(ex);
            }

            return Count(read);
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override ValueTask DisposeAsync() => inner.DisposeAsync();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        /// <summary>
        /// What one read may take: one byte more than the limit leaves, so an answer of exactly the limit passes and
        /// one byte over fails, without anything further being read.
        /// </summary>
        private int Allowed => (int)Math.Min(int.MaxValue, limit - _read + 1);

        private Memory<byte> Bound(Memory<byte> buffer) => buffer[..Math.Min(buffer.Length, Allowed)];

        private int Count(int read)
        {
            _read += read;
            return _read > limit ? throw UpstreamAnswerException.ExceededLimit(limit) : read;
        }

        private static bool IsBreak(Exception exception) =>
            exception is (IOException or HttpRequestException) and not UpstreamAnswerException;
    }
}
