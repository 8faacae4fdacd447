using Gatehouse.Chat;
using Gatehouse.Errors;

namespace Gatehouse.Routing.Invokers;

/// <summary>
/// A chat stream opened up to its first chunk, then read by the router. It ends once: read to its end, broken off
/// (the caller went away, the upstream failed, or it was disposed unread), or closed unread as the hedge that lost.
/// Ending it closes the upstream call, then runs what the invokers registered with <see cref="OnEnded"/>: the
/// permit, the in-flight count, the span and the usage record of its attempt end with the stream, not with its opening.
/// </summary>
/// <remarks>Read by one caller at a time. The invokers register while they hand it outwards, before anyone reads it.</remarks>
public sealed class UpstreamStream : UpstreamAnswer, IAsyncDisposable
{
    private readonly IAsyncEnumerator<ChatChunk> _chunks;
    private readonly List<Func<StreamEnd, ValueTask>> _onEnded = [];
    private Usage? _usage;
    private bool _completed;
    private GatewayException? _failure;
    private int _ended;

    private UpstreamStream(IAsyncEnumerator<ChatChunk> chunks, bool hasFirst, string targetModel)
    {
        _chunks = chunks;
        HasFirst = hasFirst;
        _completed = !hasFirst;
        Model = hasFirst ? chunks.Current.Model : targetModel;
        _usage = hasFirst ? chunks.Current.Usage : null;
    }

    /// <summary>Whether the upstream sent a chunk at all (false: the stream ended at once).</summary>
    public bool HasFirst { get; }

    /// <summary>The chunk read last: the first one until <see cref="MoveNextAsync"/> is called.</summary>
    public ChatChunk Current => _chunks.Current;

    public override string Model { get; }

    public override Usage? Usage => _usage;

    /// <summary>Starts <paramref name="chunks"/> and reads its first chunk; a failure to do so closes it.</summary>
    /// <param name="chunks">The adapter's stream.</param>
    /// <param name="targetModel">The model asked for: the stream's model if it sends no chunk.</param>
    /// <param name="cancellationToken">The attempt's cancellation, for the whole stream.</param>
    public static async ValueTask<UpstreamStream> OpenAsync(IAsyncEnumerable<ChatChunk> chunks, string targetModel, CancellationToken cancellationToken)
    {
        var enumerator = chunks.GetAsyncEnumerator(cancellationToken);
        try
        {
            return new UpstreamStream(enumerator, await enumerator.MoveNextAsync(), targetModel);
        }
        catch
        {
            await enumerator.DisposeAsync();
            throw;
        }
    }

    /// <summary>Reads the next chunk, keeping the last usage reported; a failure of the upstream is remembered as what broke the stream.</summary>
    public async ValueTask<bool> MoveNextAsync()
    {
        try
        {
            if (!await _chunks.MoveNextAsync())
            {
                _completed = true;
                return false;
            }
        }
        catch (GatewayException ex)
        {
            _failure = ex;
            throw;
        }

        _usage = _chunks.Current.Usage ?? _usage;
        return true;
    }

    /// <summary>Registers what an invoker does when the stream ends; they run innermost first, as a whole answer's call unwinds.</summary>
    public void OnEnded(Func<StreamEnd, ValueTask> callback) => _onEnded.Add(callback);

    /// <summary>Ends a stream the router has read, to its end or not.</summary>
    /// <param name="canceled">Whether the caller went away.</param>
    public ValueTask EndAsync(bool canceled) =>
        EndAsync(new StreamEnd { Completed = _completed, Canceled = canceled, Failure = _completed ? null : _failure });

    /// <summary>Ends the stream of the hedged call that lost, unread: it is billed as cancelled, without tokens.</summary>
    public ValueTask CloseLostAsync() => EndAsync(new StreamEnd { LostHedge = true });

    /// <summary>Ends the stream as it stands (broken off, unless it was read to its end); nothing happens if it has ended already.</summary>
    public ValueTask DisposeAsync() => EndAsync(canceled: false);

    private async ValueTask EndAsync(StreamEnd end)
    {
        if (Interlocked.Exchange(ref _ended, 1) == 1)
        {
            return;
        }

        try
        {
            await _chunks.DisposeAsync();
        }
        finally
        {
            foreach (var onEnded in _onEnded)
            {
                await onEnded(end);
            }
        }
    }
}
