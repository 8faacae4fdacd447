using Orleans.Configuration;

namespace Gatehouse.Silo.Hosting;

/// <summary>
/// The membership settings of an ADO.NET cluster: a silo that dies is declared dead in about five seconds, so its
/// grains (the quota authorities among them) re-activate elsewhere and callers stop waiting on it.
/// </summary>
/// <remarks>
/// Orleans' defaults suit large clusters on busy networks (about 15 s to suspect, a minute to see the table change).
/// Gatehouse clusters are a few silos on one network, where a missed probe means a dead process far more often than a
/// slow one; the README's "Membership" table gives each value and its reason.
/// </remarks>
internal static class MembershipSettings
{
    /// <summary>A silo is probed this often and must answer within it.</summary>
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Two missed probes in a row make a prober suspect the silo.</summary>
    public const int MissedProbesLimit = 2;

    /// <summary>Two silos' suspicions declare it dead (a prober alone cannot, so one silo's bad network kills nobody).</summary>
    public const int VotesForDeathDeclaration = 2;

    /// <summary>Each silo reads the membership table this often, so a join or a death reaches every silo within it.</summary>
    public static readonly TimeSpan TableRefresh = TimeSpan.FromSeconds(5);

    /// <summary>Each silo writes its heartbeat this often; grain clients read the live gateways from these rows.</summary>
    public static readonly TimeSpan IAmAlivePublish = TimeSpan.FromSeconds(30);

    /// <summary>Rows of silos dead for longer than this are deleted, checked once an hour, so the table stays small.</summary>
    public static readonly TimeSpan DefunctSiloExpiration = TimeSpan.FromDays(1);

    public static readonly TimeSpan DefunctSiloCleanup = TimeSpan.FromHours(1);

    public static void Apply(ClusterMembershipOptions options)
    {
        options.ProbeTimeout = ProbeTimeout;
        options.NumMissedProbesLimit = MissedProbesLimit;
        options.NumVotesForDeathDeclaration = VotesForDeathDeclaration;
        options.TableRefreshTimeout = TableRefresh;
        options.IAmAliveTablePublishTimeout = IAmAlivePublish;
        options.DefunctSiloExpiration = DefunctSiloExpiration;
        options.DefunctSiloCleanupPeriod = DefunctSiloCleanup;
    }
}
