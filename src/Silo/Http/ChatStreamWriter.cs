using Gatehouse.Chat;
using Gatehouse.Errors;

namespace Gatehouse.Silo.Http;

/// <summary>Turns a stream of canonical chunks into one vendor's server-sent events, into the response body.</summary>
internal interface IChatStreamWriter : IDisposable
{
    /// <summary>Writes the events one chunk gives rise to (buffered until the caller flushes).</summary>
    void Write(ChatChunk chunk);

    /// <summary>Ends a stream that failed after it started: the status is sent already, so the vendor's error event says it.</summary>
    void WriteError(GatewayException error);

    /// <summary>Ends a stream that completed.</summary>
    void Complete();
}
