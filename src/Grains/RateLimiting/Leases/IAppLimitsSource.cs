namespace Gatehouse.RateLimiting.Leases;

/// <summary>Where rate limiting finds an app's limits: this silo's app snapshot, which implements it.</summary>
/// <remarks>
/// Thread-safe; a lookup is a dictionary read, never a grain call. Rate limiting knows apps only through this seam, so
/// the dependency between the two feature folders points one way: Apps → RateLimiting.
/// </remarks>
public interface IAppLimitsSource
{
    /// <summary>The app's limits, or null for an app this silo does not know.</summary>
    AppLimits? FindLimits(string appId);
}
