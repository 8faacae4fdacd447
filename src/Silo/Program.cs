using Gatehouse.Configuration;
using Gatehouse.Routing;
using Gatehouse.Silo.Configuration;
using Gatehouse.Silo.Hosting;
using Gatehouse.Silo.Http.Admin;
using Gatehouse.Silo.Http.Anthropic;
using Gatehouse.Silo.Http.Dashboard;
using Gatehouse.Silo.Http.Embeddings;
using Gatehouse.Silo.Http.FrameworkErrors;
using Gatehouse.Silo.Http.OpenAI;
using Gatehouse.Silo.Http.Responses;
using Gatehouse.Silo.Storage;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

if (args is [SchemaCommand.Verb, ..])
{
    return await SchemaCommand.RunAsync(args[1..]);
}

// appsettings.json (the console's log levels among it) is read from beside the silo's DLL, not from the directory the
// silo was started in: `dotnet /opt/gatehouse/Gatehouse.Silo.dll` run from anywhere must behave the same.
var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
GatehouseConfiguration.AddSources(builder.Configuration, args);
builder.AddGatehouseSilo();
builder.AddGatehouseTelemetry();
builder.AddFrameworkErrorEnvelopes();

var app = builder.Build();
app.MapOpenAIApi();
app.MapAnthropicApi();
app.MapResponsesApi();
app.MapEmbeddingsApi();
app.MapHealthEndpoints();
app.MapGatehouseMetrics();
app.MapAdminApi();

GatehouseOptions options;
try
{
    // Validate before the host starts so a bad config is reported once, plainly, without a host failure trace.
    options = app.Services.GetRequiredService<IOptions<GatehouseOptions>>().Value;
}
catch (OptionsValidationException ex)
{
    Console.Error.WriteLine("Gatehouse cannot start: the configuration is invalid.");
    foreach (var failure in ex.Failures)
    {
        Console.Error.WriteLine($"  - {failure}");
    }

    return 1;
}

app.MapGatehouseDashboard(options.Dashboard);

if (PortsInUse.Find(options, builder.Configuration) is { Count: > 0 } taken)
{
    Console.Error.WriteLine("Gatehouse cannot start: a port it needs is taken.");
    foreach (var port in taken)
    {
        Console.Error.WriteLine($"  - {port}");
    }

    return 1;
}

await app.StartAsync();

// Resolve the route table now so a provider that cannot be set up fails the start, not the first request.
app.Services.GetRequiredService<RouteTable>();
PrintBanner(app);
await app.WaitForShutdownAsync();
return 0;

static void PrintBanner(WebApplication app)
{
    var options = app.Services.GetRequiredService<IOptions<GatehouseOptions>>().Value;
    Console.WriteLine($"Models: {string.Join(", ", app.Services.GetRequiredService<RouteTable>().Aliases)}");
    if (options.Apps.TryGetValue(EmbeddedDefaults.DemoAppId, out var demo) && demo.Keys.Contains(EmbeddedDefaults.DemoAppKey))
    {
        Console.WriteLine($"No configuration given: running the embedded demo (Simulated provider). App key: {EmbeddedDefaults.DemoAppKey}");
    }

    // Printed last: scripts and tests treat this line as "ready".
    var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
    foreach (var address in addresses)
    {
        Console.WriteLine($"Gatehouse listening on {address} (OpenAI-compatible API at {address}/v1, Anthropic-compatible at {address}/v1/messages)");
    }
}

/// <summary>The silo's entry point; public so tests can host it.</summary>
public partial class Program;
