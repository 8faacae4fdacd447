using System.Collections.Immutable;
using Gatehouse.Chat;

namespace Gatehouse.Silo.Http.Responses;

/// <summary>A <c>POST /v1/responses</c> body, read and validated (<see cref="ResponsesRequestReader"/>).</summary>
internal sealed record ResponsesRequest
{
    /// <summary>
    /// Everything the upstream needs except the conversation: <see cref="ChatRequest.Model"/> (the alias), tools and
    /// <c>tool_choice</c>, <c>temperature</c>, <c>top_p</c>, <c>max_output_tokens</c> (as MaxTokens), <c>text.format</c>
    /// (as ResponseFormat), <c>user</c>, <c>parallel_tool_calls</c>. Its Messages are empty: the endpoint puts the
    /// instructions, the previous response's conversation and <see cref="Input"/> there.
    /// </summary>
    public required ChatRequest Options { get; init; }

    /// <summary>
    /// This request's own input, canonically: a string input is one user message; <c>function_call</c> items are
    /// tool calls of an assistant message (consecutive ones, and the assistant message before them, merge into one);
    /// <c>function_call_output</c> items are tool messages; <c>developer</c> messages are system messages.
    /// </summary>
    public required ImmutableArray<ChatMessage> Input { get; init; }

    public string? Instructions { get; init; }

    public string? PreviousResponseId { get; init; }

    public bool Stream { get; init; }

    public bool Store { get; init; } = true;

    public ImmutableDictionary<string, string> Metadata { get; init; } = ImmutableDictionary<string, string>.Empty;
}
