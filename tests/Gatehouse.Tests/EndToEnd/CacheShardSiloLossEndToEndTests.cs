using System.Net.Http.Headers;
using System.Text;
using Gatehouse.Tests.Doubles;

namespace Gatehouse.Tests.EndToEnd;

/// <summary>
/// Two real silo processes in one cluster; streaming deterministic requests through silo A whose cache shards are spread
/// over both; silo B is killed while every stream is held mid-answer. A caller whose shard lived on B gets the vendor's
/// in-stream error event, never a reset connection; the others finish normally.
/// </summary>
public sealed class CacheShardSiloLossEndToEndTests
{
    private const string AppKey = "gk-shard-loss";
    private const int Streams = 16;

    private enum Ending
    {
        Done,
        ErrorEvent,
        Reset,
    }

    [Fact]
    public async Task Stream_SiloOfTheCacheShardKilledMidAnswer_CallersGetAnErrorEventNotAReset()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = await OpenAIUpstreamDouble.StartAsync();
        upstream.Behavior = _ => new UpstreamReply { HoldAfterEvents = 2, HoldUntil = release.Task };
        var config = $$"""
        {
          "Gatehouse": {
            "Providers": { "held": { "Kind": "OpenAICompatible", "BaseUrl": "{{upstream.BaseUrlFor("held")}}", "TimeoutSeconds": 120 } },
            "Models": { "held": { "Targets": [ { "Provider": "held", "Model": "held-model" } ] } },
            "Apps": { "loss": { "Keys": [ "{{AppKey}}" ] } }
          }
        }
        """;
        await using var siloA = await SiloProcess.StartAsync(config);
        var siloB = await SiloProcess.StartAsync(config, new Dictionary<string, string> { ["Gatehouse__Cluster__PrimarySiloPort"] = siloA.SiloPort.ToString() });
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(120) };
            var streams = new List<(HttpResponseMessage Response, StreamReader Reader)>();
            for (var i = 0; i < Streams; i++)
            {
                // Every stream is open and has its first chunk before the silo dies.
                streams.Add(await OpenAsync(http, siloA.BaseUrl, $"shard loss {i}"));
            }

            await siloB.DisposeAsync();
            release.SetResult();
            var endings = await Task.WhenAll(streams.Select(s => ReadToEndAsync(s.Reader).WaitAsync(TimeSpan.FromSeconds(90))));

            Assert.DoesNotContain(Ending.Reset, endings);
            // Hash placement spreads the 64 shards over both silos: some of the 16 answers were relayed by silo B.
            Assert.Contains(Ending.ErrorEvent, endings);
            Assert.Contains(Ending.Done, endings);
            foreach (var (response, reader) in streams)
            {
                reader.Dispose();
                response.Dispose();
            }
        }
        finally
        {
            release.TrySetResult();
            await siloB.DisposeAsync();
        }
    }

    private static async Task<(HttpResponseMessage, StreamReader)> OpenAsync(HttpClient http, string baseUrl, string prompt)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, baseUrl + "/v1/chat/completions")
        {
            Content = new StringContent(
                $$"""{"model":"held","temperature":0,"stream":true,"messages":[{"role":"user","content":"{{prompt}}"}]}""",
                Encoding.UTF8,
                "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AppKey);
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(200, (int)response.StatusCode);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var first = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.StartsWith("data: {", first);
        return (response, reader);
    }

    private static async Task<Ending> ReadToEndAsync(StreamReader reader)
    {
        try
        {
            var error = false;
            while (await reader.ReadLineAsync() is { } line)
            {
                if (line == "data: [DONE]")
                {
                    return Ending.Done;
                }

                error |= line.StartsWith("data: {\"error\"", StringComparison.Ordinal);
            }

            // The stream ended cleanly (chunked terminator): with an error event, or without its end, which is a failure too.
            return error ? Ending.ErrorEvent : Ending.Reset;
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            return Ending.Reset;
        }
    }
}
