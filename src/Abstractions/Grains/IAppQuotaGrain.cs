namespace Gatehouse.Grains;

/// <summary>The per-app quota authority (key: the app id, see <see cref="GrainKeys.AppQuota"/>).</summary>
[Alias("gatehouse.IAppQuotaGrain")]
public interface IAppQuotaGrain : IGrainWithStringKey, IQuotaAuthority;
