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

        using var http = new HttpClient();
        Assert.Equal("ok", await http.GetStringAsync(silo.BaseUrl + "/healthz"));
        Assert.Equal("ready", await http.GetStringAsync(silo.BaseUrl + "/readyz"));
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
