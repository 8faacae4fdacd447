namespace Gatehouse.Chat;

/// <summary>The values of <see cref="RouteInfo.Cache"/> (and of the <c>x-gatehouse-cache</c> response header).</summary>
public static class CacheStatus
{
    /// <summary>Served from a stored answer: no upstream call.</summary>
    public const string Hit = "hit";
    /// <summary>This caller started the upstream call (whose answer may be stored).</summary>
    public const string Miss = "miss";
    /// <summary>This caller joined an identical request already in flight.</summary>
    public const string Shared = "shared";
    /// <summary>The request was not eligible for the cache: it went upstream on its own.</summary>
    public const string Bypass = "bypass";
}
