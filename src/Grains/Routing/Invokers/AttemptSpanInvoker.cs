using System.Diagnostics;
using Gatehouse.Tracing;

namespace Gatehouse.Routing.Invokers;

/// <summary>Traces each attempt as a client span (<see cref="GatehouseActivities.StartAttempt"/>), ended with the call, or for a stream with the stream.</summary>
internal sealed class AttemptSpanInvoker(ITargetInvoker inner, string provider, string model) : DelegatingTargetInvoker(inner)
{
    public override ValueTask<UpstreamAnswer> InvokeAsync(UpstreamCall call, CancellationToken cancellationToken)
    {
        var span = GatehouseActivities.StartAttempt(provider, model, call.Attempt, call.Operation == UpstreamOperation.Embed ? "embeddings" : "chat");
        // With no listener there is no span: nothing to end, so no reason to wait for the call here.
        return span is null ? Inner.InvokeAsync(call, cancellationToken) : InvokeTracedAsync(span, call, cancellationToken);
    }

    private async ValueTask<UpstreamAnswer> InvokeTracedAsync(Activity span, UpstreamCall call, CancellationToken cancellationToken)
    {
        UpstreamAnswer answer;
        try
        {
            answer = await Inner.InvokeAsync(call, cancellationToken);
        }
        catch (Exception ex)
        {
            span.Failed(ex);
            span.Dispose();
            throw;
        }

        if (answer is UpstreamStream stream)
        {
            stream.OnEnded(end =>
            {
                End(span, stream, end);
                return ValueTask.CompletedTask;
            });
        }
        else
        {
            span.SetTag("gen_ai.response.model", answer.Model);
            span.Tokens(answer.Usage);
            span.Dispose();
        }

        return answer;
    }

    private static void End(Activity span, UpstreamStream stream, StreamEnd end)
    {
        if (end.LostHedge)
        {
            span.SetTag("gatehouse.hedge", "lost");
            span.Dispose();
            return;
        }

        span.SetTag("gen_ai.response.model", stream.Model);
        span.Tokens(stream.Usage);
        if (end.Failure is not null)
        {
            span.Failed(end.Failure);
        }
        else if (!end.Completed)
        {
            span.Unfinished(end.Canceled);
        }

        span.Dispose();
    }
}
