using System.Text.Json.Nodes;

namespace Gatehouse.Tests.EndToEnd.Admin;

/// <summary>
/// One real silo (in-memory storage) with an admin key, a Simulated provider behind aliases <c>chat</c>, <c>other</c> and <c>priced</c> ($1 a token),
/// and one config-file app <c>configured</c>. Every test makes its own apps, with ids of its own.
/// </summary>
public sealed class AdminApiFixture : IAsyncLifetime
{
    public const string AdminKey = "admin-FAKE-key-for-e2e-tests";
    public const string ConfiguredKey = "gk-configured-FAKE-key";

    public SiloProcess Silo { get; private set; } = null!;

    public AdminApi Api { get; private set; } = null!;

    public static string Config(string? adminKeyReference = "env:E2E_ADMIN_KEY", bool withConfiguredApp = true) => new JsonObject
    {
        ["Gatehouse"] = new JsonObject
        {
            ["AdminKey"] = adminKeyReference,
            ["Providers"] = new JsonObject { ["sim"] = new JsonObject { ["Kind"] = "Simulated", ["LatencyMs"] = 0 } },
            ["Models"] = new JsonObject
            {
                ["chat"] = new JsonObject { ["Targets"] = new JsonArray(new JsonObject { ["Provider"] = "sim", ["Model"] = "sim-1" }) },
                ["other"] = new JsonObject { ["Targets"] = new JsonArray(new JsonObject { ["Provider"] = "sim", ["Model"] = "sim-2" }) },
                // A dollar a token: one answer spends more than a small budget.
                ["priced"] = new JsonObject
                {
                    ["Targets"] = new JsonArray(new JsonObject { ["Provider"] = "sim", ["Model"] = "sim-3" }),
                    ["Pricing"] = new JsonObject { ["InputPerMillion"] = 1_000_000, ["OutputPerMillion"] = 1_000_000 },
                },
            },
            ["Apps"] = withConfiguredApp
                ? new JsonObject
                {
                    ["configured"] = new JsonObject { ["Keys"] = new JsonArray(ConfiguredKey), ["Models"] = new JsonArray("chat"), ["RequestsPerMinute"] = 1000 },
                }
                : new JsonObject
                {
                    ["other-app"] = new JsonObject { ["Keys"] = new JsonArray("gk-other-FAKE-key") },
                },
        },
    }.ToJsonString();

    public async Task InitializeAsync()
    {
        Silo = await SiloProcess.StartAsync(Config(), new Dictionary<string, string> { ["E2E_ADMIN_KEY"] = AdminKey });
        Api = new AdminApi(Silo.BaseUrl, AdminKey);
    }

    public async Task DisposeAsync()
    {
        Api?.Dispose();
        if (Silo is not null)
        {
            await Silo.DisposeAsync();
        }
    }
}
