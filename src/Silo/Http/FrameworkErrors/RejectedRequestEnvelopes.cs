using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;

namespace Gatehouse.Silo.Http.FrameworkErrors;

/// <summary>
/// A Kestrel connection middleware that puts the vendor's error envelope on the responses Kestrel writes itself when it
/// rejects a request before the app sees it (malformed request line, missing Host, invalid Content-Length, headers too
/// large): Kestrel offers no hook for their bodies and sends them empty.
/// </summary>
/// <remarks>
/// The connection's pipes are wrapped, not copied: the reader notes which API each request line names, and the writer
/// checks the first bytes of each write for a rejection head (a 4xx/5xx with <c>Content-Length: 0</c> and no
/// <c>Content-Type</c>, which the app never sends because <see cref="FrameworkErrorMiddleware"/> fills every empty error).
/// Only such a head is rewritten; everything else passes straight through.
/// </remarks>
internal static class RejectedRequestEnvelopes
{
    public static ConnectionDelegate Wrap(ConnectionDelegate next) => async connection =>
    {
        var transport = connection.Transport;
        connection.Transport = new TappedTransport(transport);
        try
        {
            await next(connection);
        }
        finally
        {
            connection.Transport = transport;
        }
    };

    private sealed class TappedTransport : IDuplexPipe
    {
        public TappedTransport(IDuplexPipe inner)
        {
            var input = new RequestLineWatcher(inner.Input);
            Input = input;
            Output = new RejectionRewriter(inner.Output, input);
        }

        public PipeReader Input { get; }

        public PipeWriter Output { get; }
    }
}
