using System.Buffers;
using System.ClientModel;

namespace Gatehouse.Providers.OpenAI;

/// <summary>
/// A request body in a buffer rented from <see cref="ArrayPool{T}"/>, written through <see cref="IBufferWriter{T}"/>.
/// Disposing it (more than once is harmless) returns the buffer: only after the upstream has answered, since the
/// pipeline sends it during the call.
/// </summary>
internal sealed class PooledBinaryContent : BinaryContent, IBufferWriter<byte>
{
    private const int InitialSize = 4096;

    private byte[]? _buffer = ArrayPool<byte>.Shared.Rent(InitialSize);
    private int _written;

    private byte[] Buffer => _buffer ?? throw new ObjectDisposedException(nameof(PooledBinaryContent));

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (_written + count > Buffer.Length)
        {
            throw new InvalidOperationException("advanced past the end of the buffer");
        }

        _written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return Buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return Buffer.AsSpan(_written);
    }

    public override bool TryComputeLength(out long length)
    {
        length = _written;
        return true;
    }

    public override void WriteTo(Stream stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        stream.Write(Buffer, 0, _written);
    }

    public override Task WriteToAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return stream.WriteAsync(Buffer, 0, _written, cancellationToken);
    }

    public override void Dispose()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { } buffer)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void Ensure(int sizeHint)
    {
        var buffer = Buffer;
        var needed = _written + Math.Max(sizeHint, 1);
        if (needed <= buffer.Length)
        {
            return;
        }

        var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, buffer.Length * 2));
        buffer.AsSpan(0, _written).CopyTo(larger);
        _buffer = larger;
        ArrayPool<byte>.Shared.Return(buffer);
    }
}
