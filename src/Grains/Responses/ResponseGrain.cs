using Gatehouse.Grains;
using Gatehouse.Responses;

namespace Gatehouse.Responses;

/// <summary>
/// Keeps one stored response in <see cref="GatehouseStorageNames.Responses"/> grain storage (PostgreSQL in production),
/// so it outlives the activation and the silo that answered it. An expired response reads as absent and is cleared.
/// </summary>
internal sealed class ResponseGrain(
    [PersistentState(ResponseGrain.StateName, GatehouseStorageNames.Responses)] IPersistentState<StoredResponseRecord> record,
    TimeProvider timeProvider)
    : Grain, IResponseGrain
{
    public const string StateName = "stored_response";

    public async Task StoreAsync(StoredResponse response, DateTimeOffset expiresAt)
    {
        record.State.Response = response;
        record.State.ExpiresAt = expiresAt;
        await record.WriteStateAsync();
    }

    public async Task<StoredResponse?> GetAsync(string appId) =>
        await CurrentAsync() is { } response && response.AppId == appId ? response : null;

    public async Task<bool> DeleteAsync(string appId)
    {
        if (await GetAsync(appId) is null)
        {
            return false;
        }

        await record.ClearStateAsync();
        DeactivateOnIdle();
        return true;
    }

    private async Task<StoredResponse?> CurrentAsync()
    {
        if (record.State.Response is null)
        {
            return null;
        }

        if (record.State.ExpiresAt > timeProvider.GetUtcNow())
        {
            return record.State.Response;
        }

        await record.ClearStateAsync();
        DeactivateOnIdle();
        return null;
    }
}
