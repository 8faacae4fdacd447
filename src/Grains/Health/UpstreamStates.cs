using System.Collections.Frozen;
using Gatehouse.Configuration;
using Microsoft.Extensions.Options;

namespace Gatehouse.Health;

/// <summary>This silo's <see cref="UpstreamState"/> of every configured provider, and the id this silo reports under.</summary>
/// <remarks>Thread-safe singleton, built once from the validated configuration.</remarks>
public sealed class UpstreamStates
{
    private readonly FrozenDictionary<string, UpstreamState> _states;

    public UpstreamStates(IOptions<GatehouseOptions> options, TimeProvider timeProvider)
        : this(options.Value, timeProvider)
    {
    }

    internal UpstreamStates(GatehouseOptions options, TimeProvider timeProvider)
    {
        _states = options.Providers.ToFrozenDictionary(
            p => p.Key, p => new UpstreamState(p.Key, p.Value, timeProvider), StringComparer.Ordinal);
    }

    /// <summary>The id under which this silo reports and holds probe permits (unique per process start).</summary>
    public string SiloId { get; } = Guid.NewGuid().ToString("n");

    public IEnumerable<UpstreamState> All => _states.Values;

    public UpstreamState Get(string provider) => _states[provider];
}
