namespace Gatehouse.Providers;

/// <summary>Defaults and bounds of provider settings.</summary>
public static class ProviderConstants
{
    public const int DefaultMaxResponseBytes = 16 * 1024 * 1024;
    public const int MinMaxResponseBytes = 1024;
    public const int MaxMaxResponseBytes = 1024 * 1024 * 1024;
}
