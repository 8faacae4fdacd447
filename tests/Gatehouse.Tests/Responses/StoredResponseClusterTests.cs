using System.Text.Json;
using Gatehouse.Apps;
using Gatehouse.Chat;
using Gatehouse.Gateway;
using Gatehouse.Grains;
using Gatehouse.Providers;
using Gatehouse.Silo.Http;
using Gatehouse.Silo.Http.Responses;
using Gatehouse.Tests.Fakes;
using Gatehouse.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.Storage;
using Orleans.TestingHost;

namespace Gatehouse.Tests.Responses;

/// <summary>
/// Stored responses on two in-process silos whose <c>gatehouse-responses</c> storage is shared, as PostgreSQL is in a
/// cluster: a response made through one silo is continued through the other after the first has stopped, and stops
/// being served when its retention has passed (fake clock).
/// </summary>
public sealed class StoredResponseClusterTests : IAsyncLifetime
{
    private static readonly Dictionary<string, string?> Config = new()
    {
        ["Gatehouse:Providers:upstream:Kind"] = FakeChatGatewayFactory.FakeKind,
        ["Gatehouse:Models:model:Targets:0:Provider"] = "upstream",
        ["Gatehouse:Models:model:Targets:0:Model"] = "upstream-model",
        ["Gatehouse:Apps:tester:Keys:0"] = "gk-FAKE-stored-responses",
        ["Gatehouse:Responses:RetentionDays"] = "30",
    };

    private static readonly AppIdentity App = new("tester", null);

    private readonly FakeUpstreams _upstreams = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 2, 8, 0, 0, TimeSpan.Zero));
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(2);
        var (upstreams, time, storage) = (_upstreams, _time, new SharedGrainStorage());
        builder.ConfigureSilo((siloOptions, silo) =>
        {
            silo.Services.AddSingleton<TimeProvider>(time);
            silo.Services.UseTimeProviderForBackgroundAreas(TimeProvider.System);
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(Config).Build();
            silo.Services.AddGatehouseGrains(configuration.GetSection("Gatehouse"));
            silo.Services.AddKeyedSingleton<IGrainStorage>(GatehouseStorageNames.Quota, storage);
            silo.Services.AddKeyedSingleton<IGrainStorage>(GatehouseStorageNames.Responses, storage);
            silo.Services.AddSingleton<IChatGatewayFactory>(new FakeChatGatewayFactory(upstreams, siloOptions.SiloName));
        });
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await _cluster.StopAllSilosAsync();
        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task StoredThroughOneSilo_ContinuedThroughAnotherAfterTheFirstStopped()
    {
        var (first, second) = (_cluster.Silos[1], _cluster.Silos[0]);
        var made = await RespondAsync(first, """{"model":"model","input":"the first turn","instructions":"Be brief."}""");
        var id = made.GetProperty("id").GetString()!;
        await _cluster.StopSiloAsync(first);

        var continued = await PrepareAsync(second, $$"""{"model":"model","input":"the second turn","previous_response_id":"{{id}}"}""");

        Assert.Equal(
            [(ChatRole.User, "the first turn"), (ChatRole.Assistant, "upstream says: the first turn"), (ChatRole.User, "the second turn")],
            continued.Request.Messages.Select(m => (m.Role, m.Text)));
    }

    [Fact]
    public async Task StoredResponse_PastItsRetention_IsNoLongerServed()
    {
        var silo = _cluster.Silos[0];
        var id = (await RespondAsync(silo, """{"model":"model","input":"remember me for a while"}""")).GetProperty("id").GetString()!;
        var grain = _cluster.GetSiloServiceProvider(silo.SiloAddress).GetRequiredService<IGrainFactory>().GetGrain<IResponseGrain>(id);

        _time.Advance(TimeSpan.FromDays(30) - TimeSpan.FromSeconds(1));
        Assert.NotNull(await grain.GetAsync(App.AppId));
        Assert.Null(await grain.GetAsync("another-app"));

        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Null(await grain.GetAsync(App.AppId));
        var expired = await Assert.ThrowsAsync<Gatehouse.Errors.GatewayException>(() =>
            PrepareAsync(silo, $$"""{"model":"model","input":"and now?","previous_response_id":"{{id}}"}"""));
        Assert.Equal("previous_response_id", expired.Param);
    }

    private async Task<ResponsesExchange> PrepareAsync(InProcessSiloHandle silo, string json)
    {
        var services = _cluster.GetSiloServiceProvider(silo.SiloAddress);
        using var body = JsonDocument.Parse(json);
        var exchange = new ResponsesExchange(ResponsesRequestReader.Read(body.RootElement, ImageUrlPolicy.For(false)), services);
        await exchange.PrepareAsync(App, CancellationToken.None);
        return exchange;
    }

    private async Task<JsonElement> RespondAsync(InProcessSiloHandle silo, string json)
    {
        var services = _cluster.GetSiloServiceProvider(silo.SiloAddress);
        var exchange = await PrepareAsync(silo, json);
        var answer = await services.GetRequiredService<ChatPipeline>().CompleteAsync(App, exchange.Request, Gatehouse.Grains.CallOptions.Default, CancellationToken.None);
        var context = new DefaultHttpContext { RequestServices = services };
        using var output = new MemoryStream();
        context.Response.Body = output;
        await exchange.WriteResponseAsync(context.Response, answer);
        return JsonDocument.Parse(output.ToArray()).RootElement.Clone();
    }
}
