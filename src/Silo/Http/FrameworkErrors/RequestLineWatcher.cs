using System.Buffers;
using System.IO.Pipelines;

namespace Gatehouse.Silo.Http.FrameworkErrors;

/// <summary>Remembers whether the request line Kestrel last started to parse names the Anthropic API.</summary>
/// <remarks>
/// Kestrel reads again before parsing each request, and each read starts where its parsing stands, so a read that starts
/// with a request line starts with the request being parsed. Reads that start elsewhere (headers, bodies) change nothing.
/// </remarks>
internal sealed class RequestLineWatcher(PipeReader inner) : PipeReader
{
    private const int LongestMethod = 16;
    private static ReadOnlySpan<byte> AnthropicPath => "/v1/messages"u8;

    public bool LastRequestIsAnthropic { get; private set; }

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        var read = inner.ReadAsync(cancellationToken);
        if (read.IsCompletedSuccessfully)
        {
            var result = read.Result;
            Watch(result.Buffer);
            return new ValueTask<ReadResult>(result);
        }

        return WatchAsync(read);
    }

    public override bool TryRead(out ReadResult result)
    {
        if (!inner.TryRead(out result))
        {
            return false;
        }

        Watch(result.Buffer);
        return true;
    }

    public override void AdvanceTo(SequencePosition consumed) => inner.AdvanceTo(consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => inner.AdvanceTo(consumed, examined);

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

    private async ValueTask<ReadResult> WatchAsync(ValueTask<ReadResult> read)
    {
        var result = await read;
        Watch(result.Buffer);
        return result;
    }

    private void Watch(ReadOnlySequence<byte> buffer)
    {
        var start = buffer.FirstSpan;
        var space = start[..Math.Min(start.Length, LongestMethod + 1)].IndexOf((byte)' ');
        if (space <= 0 || start[..space].ContainsAnyExceptInRange((byte)'A', (byte)'Z'))
        {
            return;
        }

        var target = start[(space + 1)..];
        if (target.Length <= AnthropicPath.Length)
        {
            // Too little of the line has arrived to tell; the next read will have more.
            return;
        }

        LastRequestIsAnthropic = target.StartsWith(AnthropicPath) && target[AnthropicPath.Length] is (byte)' ' or (byte)'/' or (byte)'?';
    }
}
