using System.Runtime.CompilerServices;
using System.Text;
using Gatehouse.Chat;
using Gatehouse.Configuration;
using Gatehouse.Errors;
using Gatehouse.Grains;

namespace Gatehouse.Caching;

/// <summary>
/// The state machine behind one <see cref="ResponseCacheGrain"/>: at most one upstream call in flight, recorded chunk by
/// chunk, which every caller reads from the start at its own pace; a successful answer is kept until its TTL.
/// </summary>
/// <remarks>
/// Kept out of the grain so that its rules can be tested without a cluster. Thread-safe (one short lock, never held
/// across an await or a callback); in the grain every call runs on the activation's scheduler anyway, and so does the
/// upstream call, which is started from a grain call.
///
/// Delivery to joiners: each caller enumerates the grain's <c>IAsyncEnumerable</c> method, reading the shared chunk
/// list by index and awaiting a "changed" signal when it has caught up. The rejected alternative, Orleans observers, would
/// push chunks to subscribers, but needs an observer object and registration per caller, gives no back-pressure or
/// natural end-of-stream/error, and leaves a dead subscriber's cleanup to a timeout. With the enumerable, a joiner
/// arriving late still starts from chunk 0, a slow reader never slows the others or the upstream, and a caller that goes
/// away is detached as soon as Orleans cancels or disposes its enumeration. The cost: the recording stays in memory
/// while anyone reads it, bounded by <see cref="CacheOptions.MaxEntryBytes"/> only for what is stored.
///
/// Cancellation is counted per flight: each caller attached to an unfinished flight holds one reference; a caller that
/// is cancelled (or disposes its enumeration) releases it; the last release cancels the upstream call and forgets the
/// flight, so the next caller starts afresh. A cancelled or failed flight is never stored.
/// </remarks>
internal sealed class SingleFlightCache(
    Func<CacheOptions> options,
    UsageRecorder usage,
    TimeProvider timeProvider,
    Func<RoutedCall, CancellationToken, IAsyncEnumerable<ChatChunk>> upstream)
{
    private const int ChunkOverheadBytes = 64;

    private readonly Lock _lock = new();
    private Flight? _inFlight;
    private Flight? _stored;
    private DateTimeOffset _expiresAt;
    private int _readers;

    /// <summary>Called (on the thread that completed the flight) after an answer was stored, with its time to live.</summary>
    public Action<TimeSpan>? Stored { get; set; }

    /// <summary>Whether nothing is stored, in flight or being read: the grain may deactivate.</summary>
    public bool IsIdle
    {
        get
        {
            lock (_lock)
            {
                return _inFlight is null && _stored is null && _readers == 0;
            }
        }
    }

    /// <summary>The upstream call in flight, for tests: completes when it has ended (never faults).</summary>
    internal Task? InFlight
    {
        get
        {
            lock (_lock)
            {
                return _inFlight?.Run;
            }
        }
    }

    /// <summary>Drops the stored answer if it has expired; returns the time it has left otherwise (null when none is stored).</summary>
    public TimeSpan? ExpireIfDue()
    {
        lock (_lock)
        {
            if (_stored is null)
            {
                return null;
            }

            var remaining = _expiresAt - timeProvider.GetUtcNow();
            if (remaining > TimeSpan.Zero)
            {
                return remaining;
            }

            _stored = null;
            return null;
        }
    }

    public async Task<ChatResponse> CompleteAsync(RoutedCall call, CancellationToken cancellationToken)
    {
        var (flight, status) = Attach(call);
        var delivered = false;
        try
        {
            await flight.Done.Task.WaitAsync(cancellationToken);
            if (flight.Error is { } error)
            {
                throw CopyForCaller(error);
            }

            ChatResponse response;
            lock (_lock)
            {
                response = flight.Assembled ??= ChatResponseAssembler.Assemble(flight.Chunks);
            }

            delivered = true;
            return response.Route is { } route ? response with { Route = route with { Cache = status } } : response;
        }
        finally
        {
            Detach(flight, status, call.AppId, delivered);
        }
    }

    public async IAsyncEnumerable<ChatChunk> StreamAsync(RoutedCall call, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var (flight, status) = Attach(call);
        var delivered = false;
        var index = 0;
        try
        {
            while (true)
            {
                ChatChunk? next = null;
                Task? changed = null;
                lock (_lock)
                {
                    if (index < flight.Chunks.Count)
                    {
                        next = flight.Chunks[index];
                    }
                    else if (!flight.Completed)
                    {
                        changed = flight.Changed.Task;
                    }
                }

                if (next is not null)
                {
                    if (ChunkShaping.ForCaller(next, index++ == 0 ? status : null, call.Request.IncludeUsage) is { } shaped)
                    {
                        yield return shaped;
                    }

                    continue;
                }

                if (changed is null)
                {
                    break;
                }

                await changed.WaitAsync(cancellationToken);
            }

            if (flight.Error is { } error)
            {
                throw CopyForCaller(error);
            }

            delivered = true;
        }
        finally
        {
            Detach(flight, status, call.AppId, delivered);
        }
    }

    private (Flight Flight, string Status) Attach(RoutedCall call)
    {
        Flight flight;
        lock (_lock)
        {
            _readers++;
            if (_stored is { } stored)
            {
                if (timeProvider.GetUtcNow() >= _expiresAt)
                {
                    _stored = null;
                }
                else if (!call.Options.NoCacheRead)
                {
                    return (stored, CacheStatus.Hit);
                }
            }

            // An in-flight call is a fresh answer, so a no-cache caller joins it too rather than calling again.
            if (_inFlight is { } running)
            {
                running.Callers++;
                return (running, CacheStatus.Shared);
            }

            flight = new Flight(call) { Callers = 1 };
            _inFlight = flight;
        }

        flight.Run = RunAsync(flight);
        return (flight, CacheStatus.Miss);
    }

    private void Detach(Flight flight, string status, string appId, bool delivered)
    {
        var cancel = false;
        lock (_lock)
        {
            _readers--;
            if (status != CacheStatus.Hit && --flight.Callers == 0 && !flight.Completed)
            {
                // Everyone who wanted this answer has gone: stop paying for it, and let the next caller start afresh.
                cancel = true;
                if (_inFlight == flight)
                {
                    _inFlight = null;
                }
            }
        }

        if (cancel)
        {
            flight.Cancellation.Cancel();
        }

        if (delivered)
        {
            switch (status)
            {
                case CacheStatus.Hit:
                    usage.RecordCacheHit(appId, flight.Usage);
                    break;
                case CacheStatus.Shared:
                    usage.RecordSharedJoin(appId, flight.Usage);
                    break;
            }
        }
    }

    private async Task RunAsync(Flight flight)
    {
        var starter = flight.Starter;
        // Always a stream with usage: a streaming and a non-streaming caller can share it, and usage is known for billing.
        var call = starter.Request.IncludeUsage ? starter : starter with { Request = starter.Request with { IncludeUsage = true } };
        var cancellationToken = flight.Cancellation.Token;
        Exception? error = null;
        try
        {
            await foreach (var chunk in upstream(call, cancellationToken).WithCancellation(cancellationToken))
            {
                TaskCompletionSource changed;
                lock (_lock)
                {
                    flight.Chunks.Add(chunk);
                    flight.Bytes += SizeOf(chunk);
                    flight.Usage = chunk.Usage ?? flight.Usage;
                    changed = flight.Changed;
                    flight.Changed = NewSignal();
                }

                changed.TrySetResult();
            }
        }
        catch (Exception ex)
        {
            error = ex;
        }

        var settings = options();
        var ttl = TimeSpan.FromSeconds(settings.TtlSeconds);
        bool stored;
        TaskCompletionSource last;
        lock (_lock)
        {
            if (error is null && flight.Chunks.Count == 0)
            {
                error = new GatewayException(GatewayError.UpstreamFailed, "The upstream returned an empty answer.");
            }

            flight.Error = error;
            flight.Completed = true;
            if (_inFlight == flight)
            {
                _inFlight = null;
            }

            stored = error is null
                && !flight.Cancellation.IsCancellationRequested
                && settings.Enabled
                && !starter.Options.NoCacheStore
                && flight.Bytes <= settings.MaxEntryBytes;
            if (stored)
            {
                _stored = flight;
                _expiresAt = timeProvider.GetUtcNow() + ttl;
            }

            last = flight.Changed;
        }

        // Billed before anyone is released: a caller that has its answer must already see the call in the usage ledger.
        usage.RecordUpstreamCall(starter.AppId, flight.Usage);
        last.TrySetResult();
        flight.Done.TrySetResult();
        if (stored)
        {
            Stored?.Invoke(ttl);
        }
    }

    /// <summary>Each caller gets its own exception object: one instance rethrown by many callers would share a stack trace.</summary>
    private static Exception CopyForCaller(Exception error) => error switch
    {
        GatewayException e => new GatewayException(e.Error, e.Message, e.Param, e.RetryAfter, e.UpstreamStatus),
        OperationCanceledException => new GatewayException(GatewayError.UpstreamFailed, "The upstream call was cancelled."),
        _ => new GatewayException(GatewayError.UpstreamFailed, "The upstream call failed."),
    };

    /// <summary>The answer's size as stored: its text and tool call fragments in UTF-8, plus a fixed overhead per chunk.</summary>
    private static long SizeOf(ChatChunk chunk)
    {
        long size = ChunkOverheadBytes + Utf8Length(chunk.TextDelta);
        foreach (var delta in chunk.ToolCallDeltas)
        {
            size += Utf8Length(delta.Id) + Utf8Length(delta.Name) + Utf8Length(delta.ArgumentsDelta);
        }

        return size;
    }

    private static int Utf8Length(string? value) => value is null ? 0 : Encoding.UTF8.GetByteCount(value);

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed class Flight(RoutedCall starter)
    {
        public RoutedCall Starter { get; } = starter;
        public List<ChatChunk> Chunks { get; } = [];
        /// <summary>Completed, and replaced, whenever a chunk arrives or the flight ends.</summary>
        public TaskCompletionSource Changed { get; set; } = NewSignal();
        public TaskCompletionSource Done { get; } = NewSignal();
        public CancellationTokenSource Cancellation { get; } = new();
        public Task Run { get; set; } = Task.CompletedTask;
        public int Callers { get; set; }
        public bool Completed { get; set; }
        public Exception? Error { get; set; }
        public Usage? Usage { get; set; }
        public long Bytes { get; set; }
        public ChatResponse? Assembled { get; set; }
    }
}
