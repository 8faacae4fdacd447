using Gatehouse.Errors;

namespace Gatehouse.Routing.Invokers;

/// <summary>
/// Carries a refusal of the upstream's buckets from <see cref="AdmissionInvoker"/> out through <see cref="RetryInvoker"/>,
/// whose pipeline does not know this type and so does not retry it; the retry invoker throws <see cref="Refusal"/>.
/// </summary>
internal sealed class AdmissionRefusedException(GatewayException refusal) : Exception(refusal.Message)
{
    public GatewayException Refusal { get; } = refusal;
}
