using Gatehouse.Responses;

namespace Gatehouse.Grains;

/// <summary>
/// One stored response of the Responses API, keyed by its id (<c>resp_…</c>): written once when it is answered, read
/// by <c>GET /v1/responses/{id}</c> and by a request that continues it (<c>previous_response_id</c>), on any silo.
/// </summary>
/// <remarks>Only the app that made a response may read or delete it; for any other app it does not exist.</remarks>
public interface IResponseGrain : IGrainWithStringKey
{
    /// <summary>Keeps the response until <paramref name="expiresAt"/>.</summary>
    [Alias("Store")]
    Task StoreAsync(StoredResponse response, DateTimeOffset expiresAt);

    /// <summary>The response, or null when there is none for <paramref name="appId"/> (never stored, expired, deleted, another app's).</summary>
    [Alias("Get")]
    Task<StoredResponse?> GetAsync(string appId);

    /// <summary>Deletes the response; false when there is none for <paramref name="appId"/>.</summary>
    [Alias("Delete")]
    Task<bool> DeleteAsync(string appId);
}
