using Gatehouse.Client;
using Gatehouse.Errors;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Gatehouse.Tests.EndToEnd;

/// <summary>A backend service's view: <c>AddGatehouseClient</c> in a Generic Host, talking to the real silo process.</summary>
[Collection(GatewayCollection.Name)]
public sealed class GrainClientEndToEndTests(GatewayFixture fixture)
{
    private async Task<IHost> StartHostAsync(string appKey, string model)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddGatehouseClient(o =>
        {
            o.AppKey = appKey;
            o.GatewayPort = fixture.Silo.GatewayPort;
            o.DefaultModel = model;
        });
        var host = builder.Build();
        using var connect = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await host.StartAsync(connect.Token);
        return host;
    }

    [Fact]
    public async Task ChatClient_FromDependencyInjection_AnswersThroughTheSilo()
    {
        using var host = await StartHostAsync(GatewayFixture.MainKey, "with-fallback");
        var chat = host.Services.GetRequiredService<IChatClient>();
        var healthyBefore = fixture.Upstream.RequestCountFor("healthy");

        var response = await chat.GetResponseAsync("no http hop");
        var streamed = (await chat.GetStreamingResponseAsync("streamed without http").ToChatResponseAsync()).Text;

        Assert.Equal("echo: no http hop", response.Text);
        Assert.Equal("healthy-model", response.ModelId);
        Assert.Equal("healthy", response.AdditionalProperties?["gatehouse.provider"]);
        Assert.Equal("echo: streamed without http", streamed);
        Assert.Equal(healthyBefore + 2, fixture.Upstream.RequestCountFor("healthy"));
        await host.StopAsync();
    }

    [Fact]
    public async Task ChatClient_ModelNotAllowed_ThrowsGatewayException()
    {
        using var host = await StartHostAsync(GatewayFixture.LimitedKey, "gpt-test");
        var chat = host.Services.GetRequiredService<IChatClient>();

        var error = await Assert.ThrowsAsync<GatewayException>(() => chat.GetResponseAsync("hi"));

        Assert.Equal(GatewayError.ModelNotAllowed, error.Error);
        await host.StopAsync();
    }
}
