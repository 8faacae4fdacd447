using System.Text.Json.Nodes;

namespace Gatehouse.Tests.EndToEnd;

/// <summary>
/// One real silo process for the bad-input table: a Simulated provider that nonetheless has an API key, one app key and
/// an admin key, so the table can check none of the three ever shows in an answer or in the silo's output.
/// </summary>
public sealed class BadInputFixture : IAsyncLifetime
{
    public const string AppKey = "gk-e2e-badinput-app-key-5a1c";
    public const string ProviderKey = "sk-FAKE-e2e-badinput-provider-key";
    public const string AdminKey = "adm-e2e-badinput-admin-key-77d2";
    public const int MaxBodyBytes = 64 * 1024;

    public static readonly string[] Secrets = [AppKey, ProviderKey, AdminKey];

    public SiloProcess Silo { get; private set; } = null!;

    public int Port => new Uri(Silo.BaseUrl).Port;

    public async Task InitializeAsync()
    {
        var config = new JsonObject
        {
            ["Gatehouse"] = new JsonObject
            {
                ["MaxRequestBodyBytes"] = MaxBodyBytes,
                ["AdminKey"] = "env:E2E_BADINPUT_ADMIN_KEY",
                ["Providers"] = new JsonObject
                {
                    ["sim"] = new JsonObject { ["Kind"] = "Simulated", ["ApiKey"] = "env:E2E_BADINPUT_PROVIDER_KEY", ["LatencyMs"] = 0 },
                },
                ["Models"] = new JsonObject
                {
                    ["sim"] = new JsonObject { ["Targets"] = new JsonArray(new JsonObject { ["Provider"] = "sim", ["Model"] = "sim-1" }) },
                },
                ["Apps"] = new JsonObject
                {
                    ["main"] = new JsonObject { ["Keys"] = new JsonArray(AppKey) },
                },
            },
        };

        Silo = await SiloProcess.StartAsync(config.ToJsonString(), new Dictionary<string, string>
        {
            ["E2E_BADINPUT_ADMIN_KEY"] = AdminKey,
            ["E2E_BADINPUT_PROVIDER_KEY"] = ProviderKey,
        });
    }

    public async Task DisposeAsync()
    {
        if (Silo is not null)
        {
            await Silo.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class BadInputCollection : ICollectionFixture<BadInputFixture>
{
    public const string Name = "bad-input";
}
