using System.Collections.Immutable;
using Gatehouse.Chat;
using Gatehouse.Errors;
using OpenAI.Chat;
using Canonical = Gatehouse.Chat;

namespace Gatehouse.Providers.OpenAI;

/// <summary>Translates between Gatehouse's canonical chat model and the OpenAI SDK's Chat Completions types.</summary>
internal static class OpenAIChatMapping
{
    private const string DataUriPrefix = "data:";
    private const string Base64Marker = ";base64,";

    public static List<global::OpenAI.Chat.ChatMessage> ToOpenAIMessages(ImmutableArray<Canonical.ChatMessage> messages)
    {
        var result = new List<global::OpenAI.Chat.ChatMessage>(messages.Length);
        foreach (var message in messages)
        {
            result.Add(ToOpenAIMessage(message));
        }

        return result;
    }

    public static global::OpenAI.Chat.ChatMessage ToOpenAIMessage(Canonical.ChatMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        switch (message.Role)
        {
            case Canonical.ChatRole.System:
                return IsSingleText(message.Content, out var systemText)
                    ? new SystemChatMessage(systemText) { ParticipantName = message.Name }
                    : new SystemChatMessage(ToOpenAIParts(message.Content)) { ParticipantName = message.Name };

            case Canonical.ChatRole.User:
                return IsSingleText(message.Content, out var userText)
                    ? new UserChatMessage(userText) { ParticipantName = message.Name }
                    : new UserChatMessage(ToOpenAIParts(message.Content)) { ParticipantName = message.Name };

            case Canonical.ChatRole.Assistant:
                AssistantChatMessage assistant;
                if (message.ToolCalls.IsDefaultOrEmpty)
                {
                    assistant = IsSingleText(message.Content, out var assistantText)
                        ? new AssistantChatMessage(assistantText)
                        : new AssistantChatMessage(ToOpenAIParts(message.Content));
                }
                else
                {
                    assistant = new AssistantChatMessage(message.ToolCalls.Select(ToOpenAIToolCall));
                    // The tool-call constructor leaves content empty; an assistant may also have said something.
                    if (!message.Content.IsDefaultOrEmpty && message.Text.Length > 0)
                    {
                        assistant.Content.Add(ChatMessageContentPart.CreateTextPart(message.Text));
                    }
                }

                assistant.ParticipantName = message.Name;
                return assistant;

            case Canonical.ChatRole.Tool:
                if (string.IsNullOrEmpty(message.ToolCallId))
                {
                    throw new GatewayException(GatewayError.InvalidRequest, "a tool message needs the id of the tool call it answers", "messages");
                }

                return new ToolChatMessage(message.ToolCallId, message.Text);

            default:
                throw new GatewayException(GatewayError.InvalidRequest, $"unknown message role '{message.Role}'", "messages");
        }
    }

    /// <param name="request">The canonical request.</param>
    /// <param name="legacyMaxTokens">
    /// Send the limit as <c>max_tokens</c> instead of the SDK's <c>max_completion_tokens</c>: OpenAI deprecated
    /// <c>max_tokens</c> (its reasoning models reject it), but many OpenAI-compatible servers only understand it.
    /// </param>
    public static ChatCompletionOptions ToOpenAIOptions(ChatRequest request, bool legacyMaxTokens = false)
    {
        ArgumentNullException.ThrowIfNull(request);
        var options = new ChatCompletionOptions
        {
            Temperature = (float?)request.Temperature,
            TopP = (float?)request.TopP,
            MaxOutputTokenCount = legacyMaxTokens ? null : request.MaxTokens,
            PresencePenalty = (float?)request.PresencePenalty,
            FrequencyPenalty = (float?)request.FrequencyPenalty,
            EndUserId = request.User,
            ResponseFormat = ToOpenAIResponseFormat(request.ResponseFormat),
            ToolChoice = ToOpenAIToolChoice(request.ToolChoice),
        };

        // Seed is marked experimental only because OpenAI may retire it; it is part of the canonical model (and of
        // the cache's determinism rule), so it is passed through until the SDK actually drops it.
#pragma warning disable OPENAI001
        options.Seed = request.Seed;
#pragma warning restore OPENAI001

        if (legacyMaxTokens && request.MaxTokens is { } maxTokens)
        {
            // JsonPatch is the SDK's supported way to send a field it does not model; it is marked experimental
            // only because System.ClientModel may still rename it.
#pragma warning disable SCME0001
            options.Patch.Set("$.max_tokens"u8, maxTokens);
#pragma warning restore SCME0001
        }

        if (!request.Stop.IsDefaultOrEmpty)
        {
            foreach (var stop in request.Stop)
            {
                options.StopSequences.Add(stop);
            }
        }

        if (!request.Tools.IsDefaultOrEmpty)
        {
            foreach (var tool in request.Tools)
            {
                options.Tools.Add(ChatTool.CreateFunctionTool(
                    tool.Name,
                    tool.Description,
                    tool.ParametersJson is { Length: > 0 } parameters ? BinaryData.FromString(parameters) : null,
                    tool.Strict));
            }

            // parallel_tool_calls is only valid alongside tools; OpenAI rejects it otherwise.
            options.AllowParallelToolCalls = request.ParallelToolCalls;
        }

        return options;
    }

    public static ChatResponseFormat? ToOpenAIResponseFormat(ResponseFormat? format) => format?.Kind switch
    {
        null => null,
        ResponseFormatKind.Text => ChatResponseFormat.CreateTextFormat(),
        ResponseFormatKind.JsonObject => ChatResponseFormat.CreateJsonObjectFormat(),
        ResponseFormatKind.JsonSchema => ChatResponseFormat.CreateJsonSchemaFormat(
            format.SchemaName ?? "response",
            BinaryData.FromString(format.SchemaJson ?? "{}"),
            jsonSchemaFormatDescription: null,
            jsonSchemaIsStrict: format.Strict),
        _ => throw new GatewayException(GatewayError.InvalidRequest, $"unknown response format '{format.Kind}'", "response_format"),
    };

    public static ChatToolChoice? ToOpenAIToolChoice(ToolChoice? choice) => choice?.Mode switch
    {
        null => null,
        ToolChoiceMode.Auto => ChatToolChoice.CreateAutoChoice(),
        ToolChoiceMode.None => ChatToolChoice.CreateNoneChoice(),
        ToolChoiceMode.Required => ChatToolChoice.CreateRequiredChoice(),
        ToolChoiceMode.Function when !string.IsNullOrEmpty(choice.FunctionName) => ChatToolChoice.CreateFunctionChoice(choice.FunctionName),
        ToolChoiceMode.Function => throw new GatewayException(GatewayError.InvalidRequest, "tool_choice names no function", "tool_choice"),
        _ => throw new GatewayException(GatewayError.InvalidRequest, $"unknown tool_choice '{choice.Mode}'", "tool_choice"),
    };

    public static ChatResponse FromOpenAICompletion(ChatCompletion completion, string requestedModel)
    {
        ArgumentNullException.ThrowIfNull(completion);
        var text = ConcatText(completion.Content);
        // A refusal arrives instead of content; the canonical model has no refusal field, and an empty answer
        // would hide why the model declined.
        if (text is null && !string.IsNullOrEmpty(completion.Refusal))
        {
            text = completion.Refusal;
        }

        var toolCalls = completion.ToolCalls.Count == 0
            ? ImmutableArray<ToolCall>.Empty
            : completion.ToolCalls.Select(FromOpenAIToolCall).ToImmutableArray();

        return new ChatResponse
        {
            Id = completion.Id ?? string.Empty,
            Model = string.IsNullOrEmpty(completion.Model) ? requestedModel : completion.Model,
            Created = completion.CreatedAt.ToUnixTimeSeconds(),
            SystemFingerprint = completion.SystemFingerprint,
            FinishReason = FromOpenAIFinishReason(completion.FinishReason),
            Usage = FromOpenAIUsage(completion.Usage),
            Message = new Canonical.ChatMessage
            {
                Role = Canonical.ChatRole.Assistant,
                Content = text is null ? [] : [ContentPart.FromText(text)],
                ToolCalls = toolCalls,
            },
        };
    }

    /// <summary>
    /// Maps an update to a chunk without its usage (usage is emitted as a chunk of its own); null when the update
    /// carries nothing else, such as OpenAI's usage-only final chunk or an empty keep-alive delta.
    /// </summary>
    public static ChatChunk? FromOpenAIUpdate(StreamingChatCompletionUpdate update, string requestedModel)
    {
        ArgumentNullException.ThrowIfNull(update);
        var text = ConcatText(update.ContentUpdate) ?? NullIfEmpty(update.RefusalUpdate);
        var role = update.Role is { } r ? FromOpenAIRole(r) : (Canonical.ChatRole?)null;
        var finish = update.FinishReason is { } f ? FromOpenAIFinishReason(f) : (FinishReason?)null;
        var toolCalls = update.ToolCallUpdates.Count == 0
            ? ImmutableArray<ToolCallDelta>.Empty
            : update.ToolCallUpdates.Select(FromOpenAIToolCallUpdate).ToImmutableArray();

        if (role is null && finish is null && toolCalls.IsEmpty && string.IsNullOrEmpty(text))
        {
            return null;
        }

        return new ChatChunk
        {
            Id = update.CompletionId ?? string.Empty,
            Model = string.IsNullOrEmpty(update.Model) ? requestedModel : update.Model,
            Created = update.CreatedAt.ToUnixTimeSeconds(),
            SystemFingerprint = update.SystemFingerprint,
            Role = role,
            TextDelta = text,
            ToolCallDeltas = toolCalls,
            FinishReason = finish,
        };
    }

    /// <summary>The usage-only chunk for an update that reported usage, or null when it did not.</summary>
    public static ChatChunk? FromOpenAIUsageUpdate(StreamingChatCompletionUpdate update, string requestedModel)
    {
        ArgumentNullException.ThrowIfNull(update);
        return FromOpenAIUsage(update.Usage) is { } usage
            ? new ChatChunk
            {
                Id = update.CompletionId ?? string.Empty,
                Model = string.IsNullOrEmpty(update.Model) ? requestedModel : update.Model,
                Created = update.CreatedAt.ToUnixTimeSeconds(),
                SystemFingerprint = update.SystemFingerprint,
                Usage = usage,
            }
            : null;
    }

    public static FinishReason FromOpenAIFinishReason(ChatFinishReason reason) => reason switch
    {
        ChatFinishReason.Length => FinishReason.Length,
        ChatFinishReason.ToolCalls or ChatFinishReason.FunctionCall => FinishReason.ToolCalls,
        ChatFinishReason.ContentFilter => FinishReason.ContentFilter,
        _ => FinishReason.Stop,
    };

    public static Usage? FromOpenAIUsage(ChatTokenUsage? usage) =>
        usage is null ? null : new Usage { PromptTokens = usage.InputTokenCount, CompletionTokens = usage.OutputTokenCount };

    private static Canonical.ChatRole FromOpenAIRole(ChatMessageRole role) => role switch
    {
        ChatMessageRole.System => Canonical.ChatRole.System,
        ChatMessageRole.User => Canonical.ChatRole.User,
        ChatMessageRole.Tool or ChatMessageRole.Function => Canonical.ChatRole.Tool,
        _ => Canonical.ChatRole.Assistant,
    };

    private static ToolCall FromOpenAIToolCall(ChatToolCall call) => new()
    {
        Id = call.Id,
        Name = call.FunctionName,
        ArgumentsJson = call.FunctionArguments is { } args && !args.IsEmpty ? args.ToString() : "{}",
    };

    private static ToolCallDelta FromOpenAIToolCallUpdate(StreamingChatToolCallUpdate update) => new()
    {
        Index = update.Index,
        Id = update.ToolCallId,
        Name = update.FunctionName,
        ArgumentsDelta = update.FunctionArgumentsUpdate is { } args && !args.IsEmpty ? args.ToString() : null,
    };

    private static ChatToolCall ToOpenAIToolCall(ToolCall call) =>
        ChatToolCall.CreateFunctionToolCall(call.Id, call.Name, BinaryData.FromString(string.IsNullOrEmpty(call.ArgumentsJson) ? "{}" : call.ArgumentsJson));

    private static List<ChatMessageContentPart> ToOpenAIParts(ImmutableArray<ContentPart> content)
    {
        var parts = new List<ChatMessageContentPart>(content.IsDefault ? 0 : content.Length);
        if (content.IsDefault)
        {
            return parts;
        }

        foreach (var part in content)
        {
            parts.Add(part.Kind switch
            {
                ContentPartKind.Text => ChatMessageContentPart.CreateTextPart(part.Text ?? string.Empty),
                ContentPartKind.ImageUrl => ToOpenAIImagePart(part),
                _ => throw new GatewayException(GatewayError.InvalidRequest, $"unknown content part '{part.Kind}'", "messages"),
            });
        }

        return parts;
    }

    private static ChatMessageContentPart ToOpenAIImagePart(ContentPart part)
    {
        var url = part.ImageUrl;
        if (string.IsNullOrEmpty(url))
        {
            throw new GatewayException(GatewayError.InvalidRequest, "an image part has no url", "messages");
        }

        var detail = string.IsNullOrEmpty(part.ImageDetail) ? (ChatImageDetailLevel?)null : new ChatImageDetailLevel(part.ImageDetail);
        if (url.StartsWith(DataUriPrefix, StringComparison.OrdinalIgnoreCase))
        {
            // The SDK re-encodes BinaryData with its media type into the same data: URI; going through bytes
            // validates the base64 here, as a 400, instead of letting the upstream reject it.
            var marker = url.IndexOf(Base64Marker, StringComparison.OrdinalIgnoreCase);
            if (marker < 0)
            {
                throw new GatewayException(GatewayError.InvalidRequest, "an image data: URI must be base64-encoded", "messages");
            }

            var mediaType = url[DataUriPrefix.Length..marker];
            byte[] bytes;
            try
            {
                bytes = Convert.FromBase64String(url[(marker + Base64Marker.Length)..]);
            }
            catch (FormatException)
            {
                throw new GatewayException(GatewayError.InvalidRequest, "an image data: URI is not valid base64", "messages");
            }

            return ChatMessageContentPart.CreateImagePart(BinaryData.FromBytes(bytes), mediaType.Length == 0 ? "application/octet-stream" : mediaType, detail);
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            throw new GatewayException(GatewayError.InvalidRequest, "an image url is not an absolute URI", "messages");
        }

        return ChatMessageContentPart.CreateImagePart(uri, detail);
    }

    private static bool IsSingleText(ImmutableArray<ContentPart> content, out string text)
    {
        if (content.IsDefaultOrEmpty)
        {
            text = string.Empty;
            return true;
        }

        if (content.Length == 1 && content[0].Kind == ContentPartKind.Text)
        {
            text = content[0].Text ?? string.Empty;
            return true;
        }

        text = string.Empty;
        return false;
    }

    private static string? ConcatText(ChatMessageContent? content)
    {
        if (content is null || content.Count == 0)
        {
            return null;
        }

        if (content.Count == 1)
        {
            return content[0].Text;
        }

        return string.Concat(content.Where(p => p.Kind == ChatMessageContentPartKind.Text).Select(p => p.Text));
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
