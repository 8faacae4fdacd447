using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Net.Http.Headers;
using OpenAI.Responses;

namespace Gatehouse.Tests.Http.Responses;

#pragma warning disable OPENAI001 // The SDK marks its Responses client experimental; it is the client these tests speak for.

/// <summary>
/// The official OpenAI SDK's <see cref="ResponsesClient"/> over an in-process handler that answers every request with
/// canned bytes: what Gatehouse writes is parsed by the SDK's own code, and what the SDK sends is kept.
/// </summary>
internal sealed class SdkResponsesClient : HttpMessageHandler
{
    private readonly byte[] _body;
    private readonly string _mediaType;

    private SdkResponsesClient(byte[] body, string mediaType)
    {
        _body = body;
        _mediaType = mediaType;
        Client = new ResponsesClient(new ApiKeyCredential("sk-test"), new ResponsesClientOptions
        {
            Endpoint = new Uri("http://gatehouse.test/v1"),
            Transport = new HttpClientPipelineTransport(new HttpClient(this)),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        });
    }

    public ResponsesClient Client { get; }

    /// <summary>The body of the last request the SDK sent.</summary>
    public string? RequestBody { get; private set; }

    public Uri? RequestUri { get; private set; }

    public static SdkResponsesClient Json(byte[] body) => new(body, "application/json");

    public static SdkResponsesClient EventStream(byte[] body) => new(body, "text/event-stream");

    /// <summary>Every update the SDK reads from the canned stream.</summary>
    public async Task<List<StreamingResponseUpdate>> StreamAsync()
    {
        var updates = new List<StreamingResponseUpdate>();
        var options = new CreateResponseOptions { Model = "fast", InputItems = { ResponseItem.CreateUserMessageItem("hi") }, StreamingEnabled = true };
        await using var stream = await Client.CreateResponseStreamingAsync(options);
        await foreach (var update in stream)
        {
            updates.Add(update);
        }

        return updates;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        RequestUri = request.RequestUri;
        RequestBody = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
        var content = new ByteArrayContent(_body);
        content.Headers.ContentType = new MediaTypeHeaderValue(_mediaType);
        return new HttpResponseMessage(HttpStatusCode.OK) { Content = content };
    }
}
