namespace Gatehouse.Providers;

/// <summary>Provider kinds known to the gateway.</summary>
public static class ProviderKinds
{
    public const string OpenAI = "OpenAI";
    public const string OpenAICompatible = "OpenAICompatible";
    public const string Anthropic = "Anthropic";
    public const string Ollama = "Ollama";
    public const string Gemini = "Gemini";
    public const string Simulated = "Simulated";
}
