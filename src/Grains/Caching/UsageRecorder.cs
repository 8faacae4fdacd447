using System.Collections.Concurrent;
using Gatehouse.Chat;

namespace Gatehouse.Caching;

/// <summary>Per-silo usage counters per app: what went upstream (billed) and what the cache saved.</summary>
/// <remarks>
/// A singleton updated with interlocked operations: no lock, no storage write per request. An upstream call is counted
/// once, by whoever made it (the cache shard for a miss, the pipeline for a bypass); hits and shared joins are counted
/// as savings, never as upstream tokens. Read by tests now, and later by the admin API and metrics, which sum the silos.
/// </remarks>
public sealed class UsageRecorder
{
    private readonly ConcurrentDictionary<string, AppUsageCounters> _apps = new(StringComparer.Ordinal);

    public void RecordUpstreamCall(string appId, Usage? usage) => For(appId).AddUpstream(usage);

    public void RecordCacheHit(string appId, Usage? saved) => For(appId).AddHit(saved);

    public void RecordSharedJoin(string appId, Usage? saved) => For(appId).AddShared(saved);

    /// <summary>A consistent-enough copy of one app's counters (each counter is read atomically).</summary>
    public AppUsage Snapshot(string appId) => _apps.TryGetValue(appId, out var counters) ? counters.Snapshot() : default;

    public IReadOnlyDictionary<string, AppUsage> SnapshotAll() => _apps.ToDictionary(p => p.Key, p => p.Value.Snapshot(), StringComparer.Ordinal);

    private AppUsageCounters For(string appId) => _apps.GetOrAdd(appId, static _ => new AppUsageCounters());

    private sealed class AppUsageCounters
    {
        private long _upstreamCalls;
        private long _promptTokens;
        private long _completionTokens;
        private long _cacheHits;
        private long _sharedJoins;
        private long _savedPromptTokens;
        private long _savedCompletionTokens;

        public void AddUpstream(Usage? usage)
        {
            Interlocked.Increment(ref _upstreamCalls);
            if (usage is not null)
            {
                Interlocked.Add(ref _promptTokens, usage.PromptTokens);
                Interlocked.Add(ref _completionTokens, usage.CompletionTokens);
            }
        }

        public void AddHit(Usage? saved)
        {
            Interlocked.Increment(ref _cacheHits);
            AddSaved(saved);
        }

        public void AddShared(Usage? saved)
        {
            Interlocked.Increment(ref _sharedJoins);
            AddSaved(saved);
        }

        public AppUsage Snapshot() => new(
            Interlocked.Read(ref _upstreamCalls),
            Interlocked.Read(ref _promptTokens),
            Interlocked.Read(ref _completionTokens),
            Interlocked.Read(ref _cacheHits),
            Interlocked.Read(ref _sharedJoins),
            Interlocked.Read(ref _savedPromptTokens),
            Interlocked.Read(ref _savedCompletionTokens));

        private void AddSaved(Usage? saved)
        {
            if (saved is not null)
            {
                Interlocked.Add(ref _savedPromptTokens, saved.PromptTokens);
                Interlocked.Add(ref _savedCompletionTokens, saved.CompletionTokens);
            }
        }
    }
}

/// <summary>One app's usage on one silo.</summary>
public readonly record struct AppUsage(
    long UpstreamCalls,
    long PromptTokens,
    long CompletionTokens,
    long CacheHits,
    long SharedJoins,
    long SavedPromptTokens,
    long SavedCompletionTokens)
{
    public static AppUsage operator +(AppUsage a, AppUsage b) => new(
        a.UpstreamCalls + b.UpstreamCalls,
        a.PromptTokens + b.PromptTokens,
        a.CompletionTokens + b.CompletionTokens,
        a.CacheHits + b.CacheHits,
        a.SharedJoins + b.SharedJoins,
        a.SavedPromptTokens + b.SavedPromptTokens,
        a.SavedCompletionTokens + b.SavedCompletionTokens);
}
