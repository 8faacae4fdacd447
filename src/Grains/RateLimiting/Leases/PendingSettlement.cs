using Gatehouse.Grains;

namespace Gatehouse.RateLimiting.Leases;

/// <summary>
/// What one scope's lease owes its authority and has to hand back: tokens used beyond the estimates, and unused
/// units per grant they came from. Guarded by the owning <see cref="RateLease"/>'s lock.
/// </summary>
/// <remarks>
/// Units are kept per grant (<see cref="LeaseGrant.GrantedAtTicks"/>) even after their lease expired: the authority
/// credits them to the slot they were granted in while that slot is inside its minute, so they are worth sending.
/// </remarks>
internal sealed class PendingSettlement
{
    private readonly List<(long GrantedAtTicks, int Requests, int Tokens)> _returns = [];

    public int TokensOwed { get; private set; }

    public bool IsEmpty => TokensOwed == 0 && _returns.Count == 0;

    public void Owe(int tokens) => TokensOwed += tokens;

    public void AddReturn(long grantedAtTicks, int requests, int tokens)
    {
        if (requests <= 0 && tokens <= 0)
        {
            return;
        }

        for (var i = 0; i < _returns.Count; i++)
        {
            if (_returns[i].GrantedAtTicks == grantedAtTicks)
            {
                var (_, r, t) = _returns[i];
                _returns[i] = (grantedAtTicks, r + Math.Max(0, requests), t + Math.Max(0, tokens));
                return;
            }
        }

        _returns.Add((grantedAtTicks, Math.Max(0, requests), Math.Max(0, tokens)));
    }

    /// <summary>Everything pending as settlements, one per grant (the owed tokens ride on the first); empty when nothing is.</summary>
    public List<LeaseSettlement> Take()
    {
        var settlements = new List<LeaseSettlement>(Math.Max(1, _returns.Count));
        foreach (var (grantedAtTicks, requests, tokens) in _returns)
        {
            settlements.Add(new LeaseSettlement
            {
                GrantedAtTicks = grantedAtTicks,
                RequestsReturned = requests,
                TokensReturned = tokens,
                TokensOwed = settlements.Count == 0 ? TokensOwed : 0,
            });
        }

        if (settlements.Count == 0 && TokensOwed > 0)
        {
            settlements.Add(new LeaseSettlement { TokensOwed = TokensOwed });
        }

        _returns.Clear();
        TokensOwed = 0;
        return settlements;
    }
}
