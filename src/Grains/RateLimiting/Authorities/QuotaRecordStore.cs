using Microsoft.Extensions.Logging;
using Orleans.Storage;

namespace Gatehouse.RateLimiting.Authorities;

/// <summary>
/// Write-ahead persistence of one authority's record (a <see cref="QuotaRecord"/>, a budget's record) through Orleans
/// grain storage, with group commit: every caller that asks while a write is under way is covered by the one write
/// that follows it.
/// </summary>
/// <remarks>
/// <para>
/// Runs on the owning grain's scheduler (not thread-safe). A caller changes the in-memory counts, then awaits
/// <see cref="PersistAsync"/>: true means a write that started after its change landed, so the change survives the
/// activation; false means it did not, and the caller must not hand out what it debited.
/// </para>
/// <para>
/// Fencing: every write carries the ETag of the record this activation last read or wrote. A second activation of the
/// same authority (a duplicate during a membership change) makes the other's next write conflict; the loser refuses
/// what that write covered, reloads the record and continues from it, so the two can never both grant the same units.
/// A write that fails for another reason may still have landed: the record is reloaded too, which can only count a
/// refused grant as used (conservative), never forget one.
/// </para>
/// </remarks>
internal sealed partial class QuotaRecordStore<TRecord>(
    IGrainStorage storage, string stateName, GrainId grainId, Func<TRecord> snapshot, Action<TRecord> restore, ILogger logger)
    where TRecord : class, new()
{
    private readonly GrainState<TRecord> _state = new() { State = new TRecord() };
    private TaskCompletionSource<bool>? _pending;
    private bool _writing;
    private Task<bool>? _loading;

    /// <summary>Whether the record has been read (or found absent) since start or since the last failure.</summary>
    public bool Loaded { get; private set; }

    /// <summary>Reads the record and hands it to <c>restore</c>; false when it could not be read (nothing may be granted then).</summary>
    public Task<bool> LoadAsync()
    {
        if (Loaded)
        {
            return Task.FromResult(true);
        }

        // Callers that arrive while a read is under way share it; after a failed read, the next caller tries again.
        if (_loading is null || _loading.IsCompleted)
        {
            _loading = LoadOnceAsync();
        }

        return _loading;
    }

    /// <summary>Persists the current counts; completes when a write that began after this call has landed (true) or failed (false).</summary>
    public Task<bool> PersistAsync()
    {
        _pending ??= new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var covered = _pending.Task;
        if (!_writing)
        {
            _ = WriteLoopAsync();
        }

        return covered;
    }

    private async Task<bool> LoadOnceAsync()
    {
        try
        {
            await storage.ReadStateAsync(stateName, grainId, _state);
            if (_state.RecordExists && _state.State is { } record)
            {
                restore(record);
            }

            Loaded = true;
            // Whatever was debited before this read belongs to the stale counts it replaced: refuse it.
            if (_pending is { } stale && !_writing)
            {
                _pending = null;
                stale.TrySetResult(false);
            }

            return true;
        }
        catch (Exception ex)
        {
            LogUnreadable(grainId.ToString(), ex.GetType().Name);
            return false;
        }
    }

    private async Task WriteLoopAsync()
    {
        _writing = true;
        try
        {
            while (_pending is { } batch)
            {
                _pending = null;
                if (!Loaded)
                {
                    // Debited against counts that were never read (or were replaced): nothing of it may be handed out.
                    batch.TrySetResult(false);
                    await LoadAsync();
                    RefuseDebitedBeforeReload();
                    continue;
                }

                _state.State = snapshot();
                try
                {
                    await storage.WriteStateAsync(stateName, grainId, _state);
                    batch.TrySetResult(true);
                }
                catch (Exception ex)
                {
                    if (ex is InconsistentStateException)
                    {
                        LogFenced(grainId.ToString());
                    }
                    else
                    {
                        LogWriteFailed(grainId.ToString(), ex.GetType().Name);
                    }

                    batch.TrySetResult(false);
                    Loaded = false;
                    await LoadAsync();
                    RefuseDebitedBeforeReload();
                }
            }
        }
        finally
        {
            _writing = false;
        }
    }

    /// <summary>Callers that asked during a reload debited the counts the reload has just replaced.</summary>
    private void RefuseDebitedBeforeReload()
    {
        if (_pending is { } stale)
        {
            _pending = null;
            stale.TrySetResult(false);
        }
    }

    [LoggerMessage(EventId = GatehouseEventIds.QuotaRecordUnreadable, Level = LogLevel.Warning, Message = "Quota authority {Authority}: its grant record could not be read ({Error}); granting nothing until it can")]
    private partial void LogUnreadable(string authority, string error);

    [LoggerMessage(EventId = GatehouseEventIds.QuotaRecordWriteFailed, Level = LogLevel.Warning, Message = "Quota authority {Authority}: its grant record could not be written ({Error}); the grants it covered are refused")]
    private partial void LogWriteFailed(string authority, string error);

    [LoggerMessage(EventId = GatehouseEventIds.QuotaRecordFenced, Level = LogLevel.Warning, Message = "Quota authority {Authority}: another activation wrote its grant record; reloading it and refusing what this one had not recorded")]
    private partial void LogFenced(string authority);
}
