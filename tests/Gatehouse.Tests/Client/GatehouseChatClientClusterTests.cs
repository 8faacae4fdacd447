using Gatehouse.Client;
using Gatehouse.Errors;
using Gatehouse.Tests.Cluster;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace Gatehouse.Tests.Client;

/// <summary>The client library's <see cref="IChatClient"/> against a two-silo TestingHost cluster.</summary>
[Collection(ClusterCollection.Name)]
public sealed class GatehouseChatClientClusterTests : IDisposable
{
    private readonly ClusterFixture _fixture;

    public GatehouseChatClientClusterTests(ClusterFixture fixture)
    {
        _fixture = fixture;
        _fixture.Upstreams.ResetAll();
    }

    public void Dispose() => _fixture.Upstreams.ResetAll();

    private GatehouseChatClient CreateClient(string appKey = ClusterFixture.AppKey, string? model = "primary") =>
        new(_fixture.Cluster.Client, Options.Create(new GatehouseClientOptions { AppKey = appKey, DefaultModel = model }));

    [Fact]
    public async Task GetResponse_ThroughTheGrains_ReturnsTheRoutedAnswer()
    {
        _fixture.Upstreams.Get("broken").FailWith(GatewayError.UpstreamFailed, 500);
        IChatClient client = CreateClient();

        var response = await client.GetResponseAsync("hello grains");

        Assert.Equal("backup says: hello grains", response.Text);
        Assert.Equal("backup-model", response.ModelId);
        Assert.Equal("backup", response.AdditionalProperties?["gatehouse.provider"]);
        Assert.Equal(2, Convert.ToInt32(response.AdditionalProperties?["gatehouse.attempts"]));
        Assert.Equal(10, response.Usage?.InputTokenCount);
        Assert.Equal(3, response.Usage?.OutputTokenCount);
        Assert.Equal(1, _fixture.Upstreams.Get("backup").Calls);
    }

    [Fact]
    public async Task GetStreamingResponse_ThroughTheGrains_StreamsTextAndUsage()
    {
        IChatClient client = CreateClient(model: "secondary");

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync("stream please"))
        {
            updates.Add(update);
        }

        Assert.True(updates.Count > 3);
        var response = updates.ToChatResponse();
        Assert.Equal("backup says: stream please ", response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal(13, response.Usage?.TotalTokenCount);
    }

    [Fact]
    public async Task GetResponse_UnknownKey_ThrowsGatewayException()
    {
        IChatClient client = CreateClient(appKey: "gk-not-a-key");

        var error = await Assert.ThrowsAsync<GatewayException>(() => client.GetResponseAsync("hi"));

        Assert.Equal(GatewayError.Unauthenticated, error.Error);
        Assert.Equal(0, _fixture.Upstreams.Get("backup").Calls);
    }
}
