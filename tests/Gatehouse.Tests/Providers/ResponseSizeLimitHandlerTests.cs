using System.Net;
using Gatehouse.Providers;
using Xunit;

namespace Gatehouse.Tests.Providers;

public sealed class ResponseSizeLimitHandlerTests
{
    private const int Limit = 4096;

    [Theory]
    [InlineData(Limit, true)]
    [InlineData(Limit + 1, false)]
    public async Task ReadAsStream_BodyAroundTheLimit_PassesUpToTheLimitExactly(int bodyBytes, bool passes)
    {
        var source = new CountingStream(bodyBytes);
        using var client = ClientFor(new StreamContent(source));
        using var response = await client.GetAsync("http://127.0.0.1/", HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();

        var read = ReadAllAsync(body);

        if (passes)
        {
            Assert.Equal(bodyBytes, await read);
        }
        else
        {
            var ex = await Assert.ThrowsAsync<UpstreamAnswerException>(() => read);
            Assert.Equal(Limit, ex.LimitBytes);
        }

        // Never more than one byte past the limit is taken from the connection.
        Assert.True(source.Served <= Limit + 1, $"{source.Served} bytes were read");
    }

    [Fact]
    public async Task Send_ContentLengthOverTheLimit_FailsBeforeTheBodyIsRead()
    {
        var source = new CountingStream(Limit * 10);
        var content = new StreamContent(source);
        content.Headers.ContentLength = Limit * 10;
        using var client = ClientFor(content);

        var ex = await Assert.ThrowsAsync<UpstreamAnswerException>(() => client.GetAsync("http://127.0.0.1/", HttpCompletionOption.ResponseHeadersRead));

        Assert.True(ex.TooLarge);
        Assert.Equal(0, source.Served);
    }

    [Fact]
    public async Task LoadIntoBuffer_BodyOverTheLimit_FailsAtTheLimit()
    {
        var source = new CountingStream(Limit * 100);
        using var client = ClientFor(new StreamContent(source));

        // HttpClient's default completion option buffers the whole body before returning.
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => client.GetAsync("http://127.0.0.1/"));

        Assert.True(UpstreamAnswerException.Find(ex)?.TooLarge);
        Assert.True(source.Served <= Limit + 1, $"{source.Served} bytes were read");
    }

    [Fact]
    public async Task Read_ConnectionFailsMidBody_IsMarkedAsABrokenAnswer()
    {
        using var client = ClientFor(new StreamContent(new CountingStream(Limit, failAfter: 100)));
        using var response = await client.GetAsync("http://127.0.0.1/", HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();

        var ex = await Assert.ThrowsAsync<UpstreamAnswerException>(() => ReadAllAsync(body));

        Assert.False(ex.TooLarge);
        Assert.IsType<IOException>(ex.InnerException);
    }

    private static HttpClient ClientFor(HttpContent content) =>
        new(new ResponseSizeLimitHandler(Limit, new FixedResponseHandler(content)));

    private static async Task<int> ReadAllAsync(Stream body)
    {
        var buffer = new byte[1000];
        var total = 0;
        int read;
        while ((read = await body.ReadAsync(buffer)) > 0)
        {
            total += read;
        }

        return total;
    }

    private sealed class FixedResponseHandler(HttpContent content) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = content, RequestMessage = request });
    }

    /// <summary>A body of <c>length</c> bytes that counts what was taken from it, and can fail part-way like a reset connection.</summary>
    private sealed class CountingStream(int length, int? failAfter = null) : Stream
    {
        public int Served { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (failAfter is { } limit && Served >= limit)
            {
                throw new IOException("Connection reset by peer");
            }

            var n = Math.Min(count, Math.Min(length - Served, (failAfter ?? int.MaxValue) - Served));
            buffer.AsSpan(offset, n).Fill((byte)'x');
            Served += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
