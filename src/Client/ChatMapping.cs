using System.Collections.Immutable;
using System.Text.Json;
using Gatehouse.Errors;
using Microsoft.Extensions.AI;
using G = Gatehouse.Chat;

namespace Gatehouse.Client;

/// <summary>Translates between Microsoft.Extensions.AI types and Gatehouse's canonical chat model (<see cref="G"/>).</summary>
/// <remarks>
/// Pure functions; the only state (tool calls assembled from streamed deltas) lives in <see cref="ChatStreamMapper"/>.
/// Content the canonical model cannot carry is rejected with <see cref="NotSupportedException"/> rather than
/// silently dropped, except reasoning and usage content, which are informational and never sent upstream.
/// </remarks>
internal static class ChatMapping
{
    private const string ImageDetailPropertyName = "detail";
    private const string UserPropertyName = "user";

    // AIJsonUtilities.DefaultOptions writes indented JSON; arguments and results go on the wire, so compact them.
    private static readonly JsonSerializerOptions s_jsonOptions = CreateJsonOptions();

    /// <summary>Builds the canonical request for <paramref name="messages"/> and <paramref name="options"/>.</summary>
    /// <exception cref="GatewayException">No model alias: neither <see cref="ChatOptions.ModelId"/> nor the default is set.</exception>
    public static G.ChatRequest ToGatehouseRequest(IEnumerable<ChatMessage> messages, ChatOptions? options, string? defaultModel, bool stream)
    {
        ArgumentNullException.ThrowIfNull(messages);

        var model = options?.ModelId ?? defaultModel;
        if (string.IsNullOrWhiteSpace(model))
        {
            throw new GatewayException(
                GatewayError.InvalidRequest,
                "No model: set ChatOptions.ModelId or GatehouseClientOptions.DefaultModel to a model alias.",
                param: "model");
        }

        var canonicalMessages = ImmutableArray.CreateBuilder<G.ChatMessage>();
        if (!string.IsNullOrEmpty(options?.Instructions))
        {
            canonicalMessages.Add(G.ChatMessage.FromText(G.ChatRole.System, options.Instructions));
        }

        foreach (var message in messages)
        {
            AddGatehouseMessages(message, canonicalMessages);
        }

        return new G.ChatRequest
        {
            Model = model,
            Messages = canonicalMessages.ToImmutable(),
            Temperature = options?.Temperature,
            TopP = options?.TopP,
            MaxTokens = options?.MaxOutputTokens,
            Stop = options?.StopSequences is { Count: > 0 } stop ? [.. stop] : [],
            Seed = options?.Seed,
            ResponseFormat = ToGatehouseResponseFormat(options?.ResponseFormat),
            Tools = ToGatehouseTools(options?.Tools),
            ToolChoice = ToGatehouseToolChoice(options?.ToolMode),
            User = options?.AdditionalProperties?.TryGetValue(UserPropertyName, out string? user) == true ? user : null,
            // A streamed answer without its usage chunk would leave the caller unable to account for tokens.
            IncludeUsage = stream,
            PresencePenalty = options?.PresencePenalty,
            FrequencyPenalty = options?.FrequencyPenalty,
            ParallelToolCalls = options?.AllowMultipleToolCalls,
        };
    }

    public static G.ChatRole ToGatehouseRole(ChatRole role)
    {
        if (role == ChatRole.System)
        {
            return G.ChatRole.System;
        }

        if (role == ChatRole.User)
        {
            return G.ChatRole.User;
        }

        if (role == ChatRole.Assistant)
        {
            return G.ChatRole.Assistant;
        }

        if (role == ChatRole.Tool)
        {
            return G.ChatRole.Tool;
        }

        throw new NotSupportedException($"Chat role '{role}' is not supported by Gatehouse; use system, user, assistant or tool.");
    }

    public static ChatRole FromGatehouseRole(G.ChatRole role) => role switch
    {
        G.ChatRole.System => ChatRole.System,
        G.ChatRole.User => ChatRole.User,
        G.ChatRole.Assistant => ChatRole.Assistant,
        G.ChatRole.Tool => ChatRole.Tool,
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, "Unknown canonical chat role."),
    };

    public static ChatFinishReason FromGatehouseFinishReason(G.FinishReason reason) => reason switch
    {
        G.FinishReason.Stop => ChatFinishReason.Stop,
        G.FinishReason.Length => ChatFinishReason.Length,
        G.FinishReason.ToolCalls => ChatFinishReason.ToolCalls,
        G.FinishReason.ContentFilter => ChatFinishReason.ContentFilter,
        _ => new ChatFinishReason(reason.ToString().ToLowerInvariant()),
    };

    public static UsageDetails FromGatehouseUsage(G.Usage usage) => new()
    {
        InputTokenCount = usage.PromptTokens,
        OutputTokenCount = usage.CompletionTokens,
        TotalTokenCount = usage.TotalTokens,
    };

    /// <summary>Maps a complete canonical answer to an M.E.AI response with one assistant message.</summary>
    public static ChatResponse FromGatehouseResponse(G.ChatResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);

        var message = new ChatMessage(FromGatehouseRole(response.Message.Role), FromGatehouseContents(response.Message))
        {
            MessageId = response.Id,
            AuthorName = response.Message.Name,
        };

        return new ChatResponse(message)
        {
            ResponseId = response.Id,
            ModelId = response.Model,
            FinishReason = FromGatehouseFinishReason(response.FinishReason),
            Usage = response.Usage is { } usage ? FromGatehouseUsage(usage) : null,
            CreatedAt = FromUnixSeconds(response.Created),
            AdditionalProperties = ToAdditionalProperties(response.Route),
            RawRepresentation = response,
        };
    }

    /// <summary>The caller-visible facts of how a request was routed, or null when the router gave none.</summary>
    public static AdditionalPropertiesDictionary? ToAdditionalProperties(G.RouteInfo? route)
    {
        if (route is null)
        {
            return null;
        }

        var properties = new AdditionalPropertiesDictionary
        {
            [GatehouseClientConstants.ProviderPropertyName] = route.Provider,
            [GatehouseClientConstants.AttemptsPropertyName] = route.Attempts,
        };
        if (route.Cache is { } cache)
        {
            properties[GatehouseClientConstants.CachePropertyName] = cache;
        }

        return properties;
    }

    public static DateTimeOffset? FromUnixSeconds(long seconds) =>
        seconds > 0 ? DateTimeOffset.FromUnixTimeSeconds(seconds) : null;

    /// <summary>Parses a tool call's JSON arguments the way M.E.AI's own OpenAI client does: a parse failure lands on <see cref="FunctionCallContent.Exception"/>.</summary>
    public static FunctionCallContent ToFunctionCall(string callId, string name, string? argumentsJson) =>
        FunctionCallContent.CreateFromParsedArguments(
            string.IsNullOrWhiteSpace(argumentsJson) ? "{}" : argumentsJson,
            callId,
            name,
            static json => JsonSerializer.Deserialize<Dictionary<string, object?>>(json, AIJsonUtilities.DefaultOptions));

    private static List<AIContent> FromGatehouseContents(G.ChatMessage message)
    {
        var contents = new List<AIContent>(message.Content.Length + message.ToolCalls.Length);
        foreach (var part in message.Content)
        {
            switch (part.Kind)
            {
                case G.ContentPartKind.Text when !string.IsNullOrEmpty(part.Text):
                    contents.Add(new TextContent(part.Text));
                    break;
                case G.ContentPartKind.ImageUrl when part.ImageUrl is { } url:
                    contents.Add(url.StartsWith("data:", StringComparison.OrdinalIgnoreCase)
                        ? new DataContent(url)
                        : new UriContent(url, "image/*"));
                    break;
            }
        }

        foreach (var call in message.ToolCalls)
        {
            contents.Add(ToFunctionCall(call.Id, call.Name, call.ArgumentsJson));
        }

        return contents;
    }

    private static void AddGatehouseMessages(ChatMessage message, ImmutableArray<G.ChatMessage>.Builder into)
    {
        var role = ToGatehouseRole(message.Role);
        var parts = ImmutableArray.CreateBuilder<G.ContentPart>();
        var toolCalls = ImmutableArray.CreateBuilder<G.ToolCall>();

        foreach (var content in message.Contents)
        {
            switch (content)
            {
                case TextContent text:
                    if (!string.IsNullOrEmpty(text.Text))
                    {
                        parts.Add(G.ContentPart.FromText(text.Text));
                    }

                    break;

                case DataContent data:
                    RequireImage(data.MediaType);
                    parts.Add(ImagePart(data.Uri, data));
                    break;

                case UriContent uri:
                    RequireImage(uri.MediaType);
                    parts.Add(ImagePart(uri.Uri.ToString(), uri));
                    break;

                case FunctionCallContent call:
                    toolCalls.Add(new G.ToolCall
                    {
                        Id = call.CallId,
                        Name = call.Name,
                        ArgumentsJson = call.Arguments is null
                            ? "{}"
                            : JsonSerializer.Serialize(call.Arguments, s_jsonOptions.GetTypeInfo(typeof(IDictionary<string, object?>))),
                    });
                    break;

                case FunctionResultContent result:
                    // The canonical model answers one call per tool message (as OpenAI's wire format does).
                    into.Add(new G.ChatMessage
                    {
                        Role = G.ChatRole.Tool,
                        ToolCallId = result.CallId,
                        Content = [G.ContentPart.FromText(SerializeResult(result.Result))],
                    });
                    break;

                case TextReasoningContent or UsageContent:
                    break;

                default:
                    throw new NotSupportedException($"Content of type {content.GetType().Name} is not supported by Gatehouse.");
            }
        }

        if (parts.Count > 0 || toolCalls.Count > 0 || (role != G.ChatRole.Tool && message.Contents.Count == 0))
        {
            into.Add(new G.ChatMessage
            {
                Role = role,
                Content = parts.ToImmutable(),
                ToolCalls = toolCalls.ToImmutable(),
                Name = message.AuthorName,
            });
        }
    }

    private static JsonSerializerOptions CreateJsonOptions()
    {
        var options = new JsonSerializerOptions(AIJsonUtilities.DefaultOptions) { WriteIndented = false };
        options.MakeReadOnly();
        return options;
    }

    private static void RequireImage(string mediaType)
    {
        if (!mediaType.StartsWith("image/", StringComparison.OrdinalIgnoreCase))
        {
            throw new NotSupportedException($"Media type '{mediaType}' is not supported by Gatehouse; only image/* content is.");
        }
    }

    private static G.ContentPart ImagePart(string url, AIContent content) => new()
    {
        Kind = G.ContentPartKind.ImageUrl,
        ImageUrl = url,
        ImageDetail = content.AdditionalProperties?.TryGetValue(ImageDetailPropertyName, out string? detail) == true ? detail : null,
    };

    private static string SerializeResult(object? result) => result switch
    {
        null => string.Empty,
        string text => text,
        JsonElement element when element.ValueKind == JsonValueKind.String => element.GetString() ?? string.Empty,
        _ => JsonSerializer.Serialize(result, s_jsonOptions.GetTypeInfo(result.GetType())),
    };

    private static G.ResponseFormat? ToGatehouseResponseFormat(ChatResponseFormat? format) => format switch
    {
        null => null,
        ChatResponseFormatText => new G.ResponseFormat { Kind = G.ResponseFormatKind.Text },
        ChatResponseFormatJson { Schema: null } => new G.ResponseFormat { Kind = G.ResponseFormatKind.JsonObject },
        ChatResponseFormatJson json => new G.ResponseFormat
        {
            Kind = G.ResponseFormatKind.JsonSchema,
            SchemaName = json.SchemaName,
            SchemaJson = json.Schema.GetValueOrDefault().GetRawText(),
        },
        _ => throw new NotSupportedException($"Response format {format.GetType().Name} is not supported by Gatehouse."),
    };

    private static ImmutableArray<G.ToolDefinition> ToGatehouseTools(IList<AITool>? tools)
    {
        if (tools is not { Count: > 0 })
        {
            return [];
        }

        var definitions = ImmutableArray.CreateBuilder<G.ToolDefinition>(tools.Count);
        foreach (var tool in tools)
        {
            if (tool is not AIFunctionDeclaration function)
            {
                // Hosted tools (web search, code interpreter) run inside one vendor's service; the gateway cannot honour them.
                throw new NotSupportedException($"Tool '{tool.Name}' ({tool.GetType().Name}) is not supported by Gatehouse; only function tools are.");
            }

            definitions.Add(new G.ToolDefinition
            {
                Name = function.Name,
                Description = string.IsNullOrEmpty(function.Description) ? null : function.Description,
                ParametersJson = function.JsonSchema.ValueKind == JsonValueKind.Undefined ? null : function.JsonSchema.GetRawText(),
            });
        }

        return definitions.MoveToImmutable();
    }

    private static G.ToolChoice? ToGatehouseToolChoice(ChatToolMode? mode) => mode switch
    {
        null => null,
        AutoChatToolMode => new G.ToolChoice { Mode = G.ToolChoiceMode.Auto },
        NoneChatToolMode => new G.ToolChoice { Mode = G.ToolChoiceMode.None },
        RequiredChatToolMode { RequiredFunctionName: null } => new G.ToolChoice { Mode = G.ToolChoiceMode.Required },
        RequiredChatToolMode required => new G.ToolChoice { Mode = G.ToolChoiceMode.Function, FunctionName = required.RequiredFunctionName },
        _ => throw new NotSupportedException($"Tool mode {mode.GetType().Name} is not supported by Gatehouse."),
    };
}
