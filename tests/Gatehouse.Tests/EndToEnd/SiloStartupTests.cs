using System.ClientModel;
using OpenAI;
using OpenAI.Chat;

namespace Gatehouse.Tests.EndToEnd;

/// <summary>The silo host as a user starts it: embedded defaults, and a broken config refused at start.</summary>
public sealed class SiloStartupTests
{
    [Fact]
    public async Task Start_NoConfiguration_ServesTheEmbeddedSimulatedProviderWithTheDemoKey()
    {
        await using var silo = await SiloProcess.StartAsync(configJson: null, new Dictionary<string, string> { ["OPENAI_API_KEY"] = "" });

        Assert.Contains("App key: gk-local-dev", silo.Output);
        var client = new ChatClient("sim", new ApiKeyCredential("gk-local-dev"), new OpenAIClientOptions { Endpoint = new Uri(silo.BaseUrl + "/v1") });
        ChatCompletion completion = await client.CompleteChatAsync([new UserChatMessage("ping")]);

        Assert.Equal("[simulated] Gatehouse received: ping", completion.Content[0].Text);
        Assert.Equal("gatehouse-simulated", completion.SystemFingerprint);
        Assert.True(completion.Usage.OutputTokenCount > 0);

        var embeddings = new OpenAI.Embeddings.EmbeddingClient("sim-embed", new ApiKeyCredential("gk-local-dev"), new OpenAIClientOptions { Endpoint = new Uri(silo.BaseUrl + "/v1") });
        var vector = (await embeddings.GenerateEmbeddingAsync("ping")).Value.ToFloats();
        Assert.Equal(256, vector.Length);

        using var http = new HttpClient();
        Assert.Equal("ok", await http.GetStringAsync(silo.BaseUrl + "/healthz"));
        Assert.Equal("ready", await http.GetStringAsync(silo.BaseUrl + "/readyz"));
    }

    [Fact]
    public async Task Start_NoConfigurationWithGeminiKey_AddsTheGeminiProviderAndItsAliases()
    {
        await using var silo = await SiloProcess.StartAsync(configJson: null, new Dictionary<string, string>
        {
            ["OPENAI_API_KEY"] = "",
            ["ANTHROPIC_API_KEY"] = "",
            ["GEMINI_API_KEY"] = "gm-FAKE-demo-key-0123456789",
        });

        Assert.Contains("Models: ", silo.Output);
        var modelsLine = silo.Output.Split('\n').Single(l => l.StartsWith("Models: ", StringComparison.Ordinal));
        Assert.Contains("gemini-2.5-flash", modelsLine);
        Assert.Contains("gemini-2.5-pro", modelsLine);
        Assert.Contains("gemini-embedding-001", modelsLine);
        Assert.DoesNotContain("gm-FAKE-demo-key", silo.Output);
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new("Bearer", "gk-local-dev");
        var models = await http.GetStringAsync(silo.BaseUrl + "/v1/models");
        Assert.Contains("\"gemini-2.5-flash\"", models);
        Assert.Contains("\"gemini-2.5-pro\"", models);
        Assert.Contains("\"gemini-embedding-001\"", models);
        Assert.Contains("\"sim\"", models);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Console_EmbeddedDemoServingRequests_ShowsOnlyTheStartupLinesThenWarnings(bool startedElsewhere)
    {
        // Started from another directory (as `dotnet /opt/gatehouse/Gatehouse.Silo.dll` is), the silo still reads its appsettings.json.
        var elsewhere = startedElsewhere ? Directory.CreateTempSubdirectory("gatehouse-cwd-").FullName : null;
        await using var silo = await SiloProcess.StartAsync(
            configJson: null, new Dictionary<string, string> { ["OPENAI_API_KEY"] = "" }, workingDirectory: elsewhere);
        var client = new ChatClient("sim", new ApiKeyCredential("gk-local-dev"), new OpenAIClientOptions { Endpoint = new Uri(silo.BaseUrl + "/v1") });

        for (var i = 0; i < 5; i++)
        {
            await client.CompleteChatAsync([new UserChatMessage($"quiet {i}")]);
            await foreach (var _ in client.CompleteChatStreamingAsync([new UserChatMessage($"quiet stream {i}")]))
            {
            }
        }

        var unknown = new ChatClient("no-such-alias", new ApiKeyCredential("gk-local-dev"), new OpenAIClientOptions { Endpoint = new Uri(silo.BaseUrl + "/v1") });
        await Assert.ThrowsAsync<ClientResultException>(() => unknown.CompleteChatAsync([new UserChatMessage("404")]));

        // Orleans' and Polly's information lines (placement retries, "Execution attempt") used to fill the console.
        var lines = silo.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.DoesNotContain(lines, l => l.Contains("Polly") || l.Contains("Orleans") || l.Contains("Microsoft."));
        Assert.All(lines, l => Assert.True(
            l.StartsWith("Models: ") || l.StartsWith("No configuration given") || l.StartsWith("Gatehouse listening on ") || l.Contains("info: Gatehouse."),
            $"unexpected console line: {l}"));
        Assert.InRange(lines.Length, 3, 5);
    }

    [Fact]
    public async Task Start_InvalidConfiguration_ExitsNamingEveryBadKey()
    {
        const string config = """
        {
          "Gatehouse": {
            "Providers": { "up": { "Kind": "Nonsense" } },
            "Models": { "m": { "Targets": [ { "Provider": "missing", "Model": "x" } ] } },
            "Apps": { "a": { "Keys": [ "k" ], "Models": [ "ghost" ] } }
          }
        }
        """;

        var error = await Assert.ThrowsAsync<SiloExitedException>(() => SiloProcess.StartAsync(config));

        Assert.Equal(1, error.ExitCode);
        Assert.Contains("configuration is invalid", error.Output);
        Assert.Contains("Gatehouse:Providers:up:Kind 'Nonsense'", error.Output);
        Assert.Contains("Gatehouse:Models:m:Targets:0:Provider 'missing'", error.Output);
        Assert.Contains("Gatehouse:Apps:a:Models:0 'ghost'", error.Output);
        Assert.DoesNotContain("   at ", error.Output);
    }
}
