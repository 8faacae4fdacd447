namespace Gatehouse.Apps;

/// <summary>The outcome of revoking a key.</summary>
[GenerateSerializer, Alias("gatehouse.AppKeyRevocation")]
public enum AppKeyRevocation
{
    Revoked = 0,
    AppNotFound = 1,
    KeyNotFound = 2,
}
