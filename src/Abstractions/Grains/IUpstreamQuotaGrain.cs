namespace Gatehouse.Grains;

/// <summary>
/// The quota authority for one upstream (key: the provider name, see <see cref="GrainKeys.UpstreamQuota"/>): its
/// requests/minute and tokens/minute buckets and its concurrency cap, shared by every silo and every app.
/// </summary>
/// <remarks>
/// Silos draw leases and slots from it in batches, off the request path. The upstream's health and circuit are the
/// <see cref="IProviderGrain"/>'s, under the same key.
/// </remarks>
[Alias("gatehouse.IUpstreamQuotaGrain")]
public interface IUpstreamQuotaGrain : IGrainWithStringKey, IQuotaAuthority;
