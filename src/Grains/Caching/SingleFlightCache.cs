using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using Gatehouse.Chat;
using Gatehouse.Errors;
using Gatehouse.Grains;
using Gatehouse.Ledger;

namespace Gatehouse.Caching;

/// <summary>
/// The single-flight rules behind one cache shard (<see cref="ResponseCacheGrain"/>): per request hash at most one
/// upstream call in flight, recorded chunk by chunk, which every caller reads from the start at its own pace; a
/// complete, successful answer goes to the silo's <see cref="ResponseStore"/> until its TTL.
/// </summary>
/// <remarks>
/// Kept out of the grain so that its rules can be tested without a cluster. Thread-safe (one short lock, never held
/// across an await or a callback); in the grain every call runs on the activation's scheduler anyway, and so does the
/// upstream call, which is started from a grain call. Only flights in progress live here: a stored answer belongs to the
/// store, whose byte budget bounds it, so an idle hash costs nothing.
///
/// Delivery to joiners: each caller enumerates the grain's <c>IAsyncEnumerable</c> method, reading the shared chunk
/// list by index and awaiting a "changed" signal when it has caught up. The rejected alternative, Orleans observers, would
/// push chunks to subscribers, but needs an observer object and registration per caller, gives no back-pressure or
/// natural end-of-stream/error, and leaves a dead subscriber's cleanup to a timeout. With the enumerable, a joiner
/// arriving late still starts from chunk 0, a slow reader never slows the others or the upstream, and a caller that goes
/// away is detached as soon as Orleans cancels or disposes its enumeration.
///
/// Cancellation is counted per flight: each caller attached to an unfinished flight holds one reference; a caller that
/// is cancelled (or disposes its enumeration) releases it; the last release cancels the upstream call and forgets the
/// flight, so the next caller starts afresh. A cancelled or failed flight is never stored.
///
/// Each joiner keeps its own wait budget: when a flight fails because the gateway's own quotas refused its first
/// caller within that caller's wait (a 429 no upstream sent), a joiner with time left starts or joins a new flight with
/// its own call, rather than inheriting a refusal it would not have had.
/// </remarks>
internal sealed class SingleFlightCache(
    Func<CacheOptions> options,
    ResponseStore store,
    TimeProvider timeProvider,
    Func<RoutedCall, ChatRequest, CancellationToken, IAsyncEnumerable<ChatChunk>> upstream,
    Func<RoutedCall, ChatRequest, CancellationToken, Task<ChatResponse>> upstreamWhole,
    UsageMeter? meter = null)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Flight> _inFlight = new(StringComparer.Ordinal);

    /// <summary>Upstream calls in progress (one per hash at most).</summary>
    public int InFlightCount
    {
        get
        {
            lock (_lock)
            {
                return _inFlight.Count;
            }
        }
    }

    /// <summary>The upstream call in flight for <paramref name="key"/>, for tests: completes when it has ended (never faults).</summary>
    internal Task? InFlight(string key)
    {
        lock (_lock)
        {
            return _inFlight.TryGetValue(key, out var flight) ? flight.Run : null;
        }
    }

    /// <summary>The whole answer: the recorded chunks, how they were served, and until when the cache keeps them.</summary>
    public async Task<CachedAnswer> CompleteAsync(string key, RoutedCall call, ChatRequest request, CancellationToken cancellationToken)
    {
        var waitUntil = timeProvider.GetUtcNow() + call.RemainingWait;
        while (true)
        {
            var attached = Attach(key, call, request, wholeAnswer: true);
            if (attached.Stored is { } stored)
            {
                if (meter is not null)
                {
                    await meter.RecordCacheAnswerAsync(call.AppId, call.Alias, CacheStatus.Hit, stored.Chunks[0].Route, stored.Usage);
                }

                return new CachedAnswer { Chunks = stored.Chunks, Cache = CacheStatus.Hit, StoredUntil = stored.ExpiresAt };
            }

            var flight = attached.Flight!;
            var delivered = false;
            try
            {
                await flight.Done.Task.WaitAsync(cancellationToken);
                if (flight.Error is { } error)
                {
                    if (MayRetryWithOwnBudget(flight, attached.Status, error, waitUntil, ref call))
                    {
                        continue;
                    }

                    throw CopyForCaller(error);
                }

                delivered = true;
                return new CachedAnswer { Chunks = flight.Recorded, Cache = attached.Status, StoredUntil = flight.StoredUntil };
            }
            finally
            {
                Detach(key, flight, attached.Status, call.AppId, call.Alias, delivered);
            }
        }
    }

    /// <summary>
    /// The answer as a stream, from its first chunk, whether live, joined or replayed: the chunks as recorded (usage
    /// included), the first one's route marked with how it was served.
    /// </summary>
    public async IAsyncEnumerable<ChatChunk> StreamAsync(string key, RoutedCall call, ChatRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var waitUntil = timeProvider.GetUtcNow() + call.RemainingWait;
        while (true)
        {
            var attached = Attach(key, call, request, wholeAnswer: false);
            if (attached.Stored is { } stored)
            {
                for (var i = 0; i < stored.Chunks.Length; i++)
                {
                    yield return i == 0 ? WithStatus(stored.Chunks[0], CacheStatus.Hit, stored.ExpiresAt) : stored.Chunks[i];
                }

                if (meter is not null)
                {
                    await meter.RecordCacheAnswerAsync(call.AppId, call.Alias, CacheStatus.Hit, stored.Chunks[0].Route, stored.Usage);
                }

                yield break;
            }

            var flight = attached.Flight!;
            var delivered = false;
            var retry = false;
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
                        yield return index++ == 0 ? WithStatus(next, attached.Status, null) : next;
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
                    // A refusal comes before any chunk, so a retry never repeats what this caller already received.
                    retry = index == 0 && MayRetryWithOwnBudget(flight, attached.Status, error, waitUntil, ref call);
                    if (!retry)
                    {
                        throw CopyForCaller(error);
                    }
                }
                else
                {
                    delivered = true;
                }
            }
            finally
            {
                Detach(key, flight, attached.Status, call.AppId, call.Alias, delivered);
            }

            if (!retry)
            {
                yield break;
            }
        }
    }

    private bool MayRetryWithOwnBudget(Flight flight, string status, Exception error, DateTimeOffset? waitUntil, ref RoutedCall call)
    {
        if (status != CacheStatus.Shared || !IsAdmissionRefusal(error) || waitUntil is not { } until || flight.Starter.RemainingWait is not { } starterWait)
        {
            return false;
        }

        var left = until - timeProvider.GetUtcNow();
        if (left <= starterWait)
        {
            return false;
        }

        call = call with { RemainingWait = left };
        return true;
    }

    /// <summary>A 429 the gateway's own buckets gave within the first caller's wait budget (no upstream refused it).</summary>
    private static bool IsAdmissionRefusal(Exception error) =>
        error is GatewayException { Error: GatewayError.RateLimited, UpstreamStatus: null };

    private static ChatChunk WithStatus(ChatChunk chunk, string status, DateTimeOffset? storedUntil) =>
        chunk.Route is { } route ? chunk with { Route = route with { Cache = status, CachedUntil = storedUntil } } : chunk;

    /// <param name="key">The request hash.</param>
    /// <param name="call">The caller's call.</param>
    /// <param name="request">The caller's request.</param>
    /// <param name="wholeAnswer">
    /// The caller wants the whole answer: if it starts the flight, the upstream call is a non-streaming one (cheaper, and
    /// the router can still fail over, retry or hedge until the answer is complete); streaming joiners then get it at once.
    /// </param>
    private Attached Attach(string key, RoutedCall call, ChatRequest request, bool wholeAnswer)
    {
        if (!call.Options.NoCacheRead && store.TryGet(key) is { } stored)
        {
            return new Attached(stored, null, CacheStatus.Hit);
        }

        Flight flight;
        lock (_lock)
        {
            // An in-flight call is a fresh answer, so a no-cache caller joins it too rather than calling again.
            if (_inFlight.TryGetValue(key, out var running))
            {
                running.Callers++;
                return new Attached(null, running, CacheStatus.Shared);
            }

            flight = new Flight(call, request, wholeAnswer) { Callers = 1 };
            _inFlight[key] = flight;
        }

        flight.Run = RunAsync(key, flight);
        return new Attached(null, flight, CacheStatus.Miss);
    }

    private void Detach(string key, Flight flight, string status, string appId, string alias, bool delivered)
    {
        var cancel = false;
        lock (_lock)
        {
            if (--flight.Callers == 0 && !flight.Completed)
            {
                // Everyone who wanted this answer has gone: stop paying for it, and let the next caller start afresh.
                cancel = true;
                if (_inFlight.TryGetValue(key, out var current) && current == flight)
                {
                    _inFlight.Remove(key);
                }
            }
        }

        if (cancel)
        {
            flight.Cancellation.Cancel();
        }

        if (delivered && status == CacheStatus.Shared)
        {
            if (meter is not null)
            {
                var recorded = meter.RecordCacheAnswerAsync(appId, alias, CacheStatus.Shared, flight.Chunks.Count > 0 ? flight.Chunks[0].Route : null, flight.Usage);
                if (!recorded.IsCompletedSuccessfully)
                {
                    // Only when the ledger's queue is full; the ledger never throws, so nothing is left unobserved.
                    _ = recorded.AsTask();
                }
            }
        }
    }

    private async Task RunAsync(string key, Flight flight)
    {
        var starter = flight.Starter;
        // A stream always asks for usage: a streaming and a non-streaming caller can share it, and usage is known for billing.
        var call = starter with { CacheOutcome = CacheStatus.Miss };
        var request = flight.Request.IncludeUsage ? flight.Request : flight.Request with { IncludeUsage = true };
        var cancellationToken = flight.Cancellation.Token;
        Exception? error = null;
        try
        {
            var chunks = flight.WholeAnswer
                ? WholeAnswerAsChunksAsync(call, flight.Request, cancellationToken)
                : upstream(call, request, cancellationToken);
            await foreach (var chunk in chunks.WithCancellation(cancellationToken))
            {
                TaskCompletionSource changed;
                lock (_lock)
                {
                    flight.Chunks.Add(chunk);
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
        if (error is null && flight.Chunks.Count == 0)
        {
            error = new GatewayException(GatewayError.UpstreamFailed, "The upstream returned an empty answer.");
        }

        // No chunk arrives after the loop: one copy serves the store and every whole-answer caller.
        flight.Recorded = [.. flight.Chunks];
        if (error is null && !flight.Cancellation.IsCancellationRequested && settings.Enabled && !starter.Options.NoCacheStore)
        {
            var answer = new StoredAnswer(flight.Recorded, timeProvider.GetUtcNow() + TimeSpan.FromSeconds(settings.TtlSeconds));
            if (answer.Bytes <= settings.MaxEntryBytes && store.Put(key, answer))
            {
                flight.StoredUntil = answer.ExpiresAt;
            }
        }

        TaskCompletionSource last;
        lock (_lock)
        {
            flight.Error = error;
            flight.Completed = true;
            if (_inFlight.TryGetValue(key, out var current) && current == flight)
            {
                _inFlight.Remove(key);
            }

            last = flight.Changed;
        }

        last.TrySetResult();
        flight.Done.TrySetResult();
    }

    private async IAsyncEnumerable<ChatChunk> WholeAnswerAsChunksAsync(RoutedCall call, ChatRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var response = await upstreamWhole(call, request, cancellationToken);
        foreach (var chunk in ChatResponseChunks.Split(response))
        {
            yield return chunk;
        }
    }

    /// <summary>Each caller gets its own exception object: one instance rethrown by many callers would share a stack trace.</summary>
    private static Exception CopyForCaller(Exception error) => error switch
    {
        GatewayException e => new GatewayException(e.Error, e.Message, e.Param, e.RetryAfter, e.UpstreamStatus),
        OperationCanceledException => new GatewayException(GatewayError.UpstreamFailed, "The upstream call was cancelled."),
        _ => new GatewayException(GatewayError.UpstreamFailed, "The upstream call failed."),
    };

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private readonly record struct Attached(StoredAnswer? Stored, Flight? Flight, string Status);

    private sealed class Flight(RoutedCall starter, ChatRequest request, bool wholeAnswer)
    {
        public RoutedCall Starter { get; } = starter;
        /// <summary>The first caller's request, which the upstream call is made for.</summary>
        public ChatRequest Request { get; } = request;
        /// <summary>The upstream call is a non-streaming one (its first caller wanted the whole answer).</summary>
        public bool WholeAnswer { get; } = wholeAnswer;
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
        /// <summary>The chunks once the upstream call has ended (set before <see cref="Done"/>).</summary>
        public ImmutableArray<ChatChunk> Recorded { get; set; } = [];
        /// <summary>When the stored answer expires; null when it was not stored.</summary>
        public DateTimeOffset? StoredUntil { get; set; }
    }
}
