namespace Gatehouse.Silo.Http;

/// <summary>Log category of the HTTP endpoints.</summary>
internal sealed class RouterEndpointLog;
