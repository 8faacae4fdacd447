using System.Runtime.CompilerServices;
using Gatehouse.Chat;
using Gatehouse.Grains;

namespace Gatehouse.Tests.Support;

/// <summary>A routed call and its chat request together, as tests build them in one helper.</summary>
public sealed record RoutedChatCall(RoutedCall Call, ChatRequest Request)
{
    /// <summary>A call of <paramref name="appId"/> for <paramref name="request"/>'s alias.</summary>
    public static RoutedChatCall For(string appId, ChatRequest request, CallOptions? options = null) =>
        new(new RoutedCall { AppId = appId, Alias = request.Model, Options = options ?? CallOptions.Default }, request);
}

/// <summary>Router calls taking a <see cref="RoutedChatCall"/>.</summary>
public static class RoutedChatCallExtensions
{
    public static Task<ChatResponse> CompleteAsync(this IRouterGrain router, RoutedChatCall call, CancellationToken cancellationToken = default) =>
        router.CompleteAsync(call.Call, call.Request, cancellationToken);

    public static IAsyncEnumerable<ChatChunk> StreamAsync(this IRouterGrain router, RoutedChatCall call, CancellationToken cancellationToken = default) =>
        router.StreamAsync(call.Call, call.Request, cancellationToken);
}
