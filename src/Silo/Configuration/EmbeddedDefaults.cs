using Gatehouse.Apps;
using Gatehouse.Configuration;
using Gatehouse.Providers;
using Gatehouse.Routing;

namespace Gatehouse.Silo.Configuration;

/// <summary>
/// The demo configuration used when nothing configures providers, models or apps: a <c>Simulated</c> provider,
/// aliases for it, and one app with a well-known key; plus OpenAI when <c>OPENAI_API_KEY</c> is set, Anthropic when <c>ANTHROPIC_API_KEY</c> is set
/// and Gemini when <c>GEMINI_API_KEY</c> is set.
/// </summary>
/// <remarks>
/// It is applied only to an empty configuration, so a deployment that configures anything never gets the
/// well-known demo key.
/// </remarks>
internal static class EmbeddedDefaults
{
    public const string DemoAppId = "demo";
    public const string DemoAppKey = "gk-local-dev";
    public const string SimulatedProvider = "sim";

    public static bool IsUnconfigured(GatehouseOptions options) =>
        options.Providers.Count == 0 && options.Models.Count == 0 && options.Apps.Count == 0;

    public static void Apply(GatehouseOptions options)
    {
        options.Providers[SimulatedProvider] = new ProviderOptions { Kind = ProviderKinds.Simulated, LatencyMs = 20 };
        options.Models["sim"] = new ModelOptions { Targets = [new TargetOptions { Provider = SimulatedProvider, Model = "sim-1" }] };
        options.Models["sim-fast"] = new ModelOptions { Targets = [new TargetOptions { Provider = SimulatedProvider, Model = "sim-fast-1" }] };
        options.Models["sim-embed"] = new ModelOptions { Type = ModelType.Embeddings, Targets = [new TargetOptions { Provider = SimulatedProvider, Model = "sim-embed-1" }] };

        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OPENAI_API_KEY")))
        {
            options.Providers["openai"] = new ProviderOptions { Kind = ProviderKinds.OpenAI, ApiKey = "env:OPENAI_API_KEY" };
            options.Models["gpt-4o-mini"] = new ModelOptions { Targets = [new TargetOptions { Provider = "openai", Model = "gpt-4o-mini" }] };
            options.Models["gpt-4o"] = new ModelOptions { Targets = [new TargetOptions { Provider = "openai", Model = "gpt-4o" }] };
            options.Models["text-embedding-3-small"] = new ModelOptions
            {
                Type = ModelType.Embeddings,
                Targets = [new TargetOptions { Provider = "openai", Model = "text-embedding-3-small" }],
            };
        }

        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("ANTHROPIC_API_KEY")))
        {
            options.Providers["anthropic"] = new ProviderOptions { Kind = ProviderKinds.Anthropic, ApiKey = "env:ANTHROPIC_API_KEY" };
            options.Models["claude-sonnet-4-5"] = new ModelOptions { Targets = [new TargetOptions { Provider = "anthropic", Model = "claude-sonnet-4-5" }] };
        }

        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("GEMINI_API_KEY")))
        {
            options.Providers["gemini"] = new ProviderOptions { Kind = ProviderKinds.Gemini, ApiKey = "env:GEMINI_API_KEY" };
            options.Models["gemini-2.5-flash"] = new ModelOptions { Targets = [new TargetOptions { Provider = "gemini", Model = "gemini-2.5-flash" }] };
            options.Models["gemini-2.5-pro"] = new ModelOptions { Targets = [new TargetOptions { Provider = "gemini", Model = "gemini-2.5-pro" }] };
            options.Models["gemini-embedding-001"] = new ModelOptions
            {
                Type = ModelType.Embeddings,
                Targets = [new TargetOptions { Provider = "gemini", Model = "gemini-embedding-001" }],
            };
        }

        options.Apps[DemoAppId] = new AppOptions { Keys = [DemoAppKey] };
    }
}
