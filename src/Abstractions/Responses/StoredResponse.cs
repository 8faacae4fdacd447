using System.Collections.Immutable;
using Gatehouse.Chat;

namespace Gatehouse.Responses;

/// <summary>
/// One response of the Responses API as Gatehouse keeps it: what was asked (canonically) and what answered. The same
/// record is written to the caller when it is made and when it is read back (<c>GET /v1/responses/{id}</c>), and it
/// is what <c>previous_response_id</c> continues.
/// </summary>
[GenerateSerializer, Immutable, Alias("gatehouse.StoredResponse")]
public sealed record StoredResponse
{
    /// <summary><c>resp_</c> and 32 hex digits; its output items' ids derive from it (<see cref="ResponseItemIds"/>).</summary>
    [Id(0)] public required string Id { get; init; }

    /// <summary>The app that made it: the only one that may read, continue or delete it.</summary>
    [Id(1)] public required string AppId { get; init; }

    /// <summary>Unix seconds.</summary>
    [Id(2)] public required long CreatedAt { get; init; }

    /// <summary>
    /// The canonical request as routed, without the instructions: <see cref="ChatRequest.Model"/> is the alias the caller
    /// named and <see cref="ChatRequest.Messages"/> the whole conversation — the previous responses' turns, then this
    /// request's own input from <see cref="InputStart"/> on.
    /// </summary>
    [Id(3)] public required ChatRequest Request { get; init; }

    /// <summary>Where this request's own input begins in <see cref="ChatRequest.Messages"/> of <see cref="Request"/>.</summary>
    [Id(4)] public int InputStart { get; init; }

    /// <summary>The request's <c>instructions</c>, sent first as a system message; not carried into a continuation.</summary>
    [Id(5)] public string? Instructions { get; init; }

    [Id(6)] public string? PreviousResponseId { get; init; }

    [Id(7)] public ImmutableDictionary<string, string> Metadata { get; init; } = ImmutableDictionary<string, string>.Empty;

    /// <summary>The answer; null while it is being made.</summary>
    [Id(8)] public ChatResponse? Answer { get; init; }

    /// <summary>The request's <c>store</c>: false answers as usual but keeps nothing.</summary>
    [Id(9)] public bool Store { get; init; } = true;
}
