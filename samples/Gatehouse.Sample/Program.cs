// A backend service calling Gatehouse through the grain client: one complete answer, one streamed.
// Run a silo first (dotnet run --project src/Silo), then: dotnet run --project samples/Gatehouse.Sample [model-alias]
using Gatehouse.Client;
using Gatehouse.Errors;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

var builder = Host.CreateApplicationBuilder(args);
// Keep the console for the answers: Orleans logs each failed connection attempt as a warning with a
// stack trace, and the host logs a start failure that this program reports in one line itself.
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Logging.AddFilter("Orleans", LogLevel.Error);
builder.Logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.Critical);
builder.Services.AddGatehouseClient(options =>
{
    options.AppKey = Environment.GetEnvironmentVariable("GATEHOUSE_APP_KEY") ?? "gk-local-dev";
    options.DefaultModel = args.FirstOrDefault(a => !a.StartsWith('-')) ?? "sim";
});

using var host = builder.Build();
// Starting the host connects the Orleans client to the cluster. Orleans keeps retrying while no silo
// answers (right for a service that starts before the cluster); a demo should say so and stop instead.
using (var connect = new CancellationTokenSource(TimeSpan.FromSeconds(20)))
{
    try
    {
        await host.StartAsync(connect.Token);
    }
    catch (OperationCanceledException) when (connect.IsCancellationRequested)
    {
        Console.Error.WriteLine("No Gatehouse silo answered on 127.0.0.1:30000 within 20 s; start one with: dotnet run --project src/Silo");
        return 1;
    }
}

var chat = host.Services.GetRequiredService<IChatClient>();
try
{
    var response = await chat.GetResponseAsync("In one sentence: what does an LLM gateway do?");
    Console.WriteLine($"[{response.ModelId} via {response.AdditionalProperties?["gatehouse.provider"]}] {response.Text}");
    Console.WriteLine($"usage: {response.Usage?.InputTokenCount} in, {response.Usage?.OutputTokenCount} out");

    Console.Write("stream: ");
    await foreach (var update in chat.GetStreamingResponseAsync("Count from one to five."))
    {
        Console.Write(update.Text);
        foreach (var usage in update.Contents.OfType<UsageContent>())
        {
            Console.WriteLine();
            Console.WriteLine($"usage: {usage.Details.InputTokenCount} in, {usage.Details.OutputTokenCount} out");
        }
    }

    Console.WriteLine();
}
catch (GatewayException e)
{
    Console.Error.WriteLine($"Gatehouse refused the request ({e.Error}): {e.Message}");
    Environment.ExitCode = 1;
}

await host.StopAsync();
return Environment.ExitCode;
