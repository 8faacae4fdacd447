using Gatehouse.Chat;

namespace Gatehouse.Routing.Invokers;

/// <summary>What a target's adapter gave: a <see cref="WholeAnswer{TResponse}"/>, or an <see cref="UpstreamStream"/> opened up to its first chunk.</summary>
public abstract class UpstreamAnswer
{
    /// <summary>The upstream model that answered (a stream's: its first chunk's, or the target's when it sent none).</summary>
    public abstract string Model { get; }

    /// <summary>The usage the upstream reported (a stream's: the last it reported so far).</summary>
    public abstract Usage? Usage { get; }
}
