using Gatehouse.Grains;
using Gatehouse.Responses;

namespace Gatehouse.Silo.Http.Responses;

/// <summary>Reaches the grain of a stored response by the id a caller sent.</summary>
internal static class ResponseGrains
{
    /// <summary>The app's response, or null; an id that is not one Gatehouse makes activates no grain.</summary>
    public static async Task<StoredResponse?> Find(IGrainFactory grains, string id, string appId) =>
        IsResponseId(id) ? await grains.GetGrain<IResponseGrain>(id).GetAsync(appId) : null;

    public static bool IsResponseId(string id) =>
        id.Length == ResponseItemIds.ResponsePrefix.Length + 32
        && id.StartsWith(ResponseItemIds.ResponsePrefix, StringComparison.Ordinal)
        && id.AsSpan(ResponseItemIds.ResponsePrefix.Length).ContainsAnyExcept("0123456789abcdef") is false;
}
