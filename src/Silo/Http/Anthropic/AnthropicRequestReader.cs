using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using Gatehouse.Chat;
using Gatehouse.Errors;

namespace Gatehouse.Silo.Http.Anthropic;

/// <summary>Reads an Anthropic Messages API request body into the canonical <see cref="ChatRequest"/>.</summary>
/// <remarks>
/// Every problem becomes a <see cref="GatewayException"/> of kind <see cref="GatewayError.InvalidRequest"/> naming the
/// field in Anthropic's dotted style (<c>messages.0.content</c>). Features the canonical model cannot carry
/// (top_k, extended thinking, documents, server tools, MCP servers, containers) and fields it does not know are rejected
/// rather than dropped; only the ignored fields of <see cref="TopLevel"/> and <c>cache_control</c> markers are accepted
/// without effect.
/// </remarks>
internal static class AnthropicRequestReader
{
    /// <summary>Anthropic's wording of a field error: the path first, in the style of its validation messages.</summary>
    internal static readonly JsonFieldReader.Wording Wording = new(
        WrongType: (path, expected, actual) => $"{path}: Input should be {expected} (got {actual})",
        OutOfRange: (path, number, min, max) => $"{path}: Input should be between {min} and {max} (got {number})",
        BelowMinimum: (path, number, min) => $"{path}: Input should be greater than or equal to {min} (got {number})",
        Unrecognized: path => $"{path}: Extra inputs are not permitted",
        Required: path => $"{path}: Field required",
        NotText: (path, isName) => isName
            ? $"{(path.Length == 0 ? "body" : path)}: a property name is not valid UTF-8 text (invalid bytes or an unpaired surrogate escape such as \\ud800)"
            : $"{path}: Input should be valid UTF-8 text (invalid bytes or an unpaired surrogate escape such as \\ud800)",
        Index: (path, index) => $"{path}.{index}");

    private static readonly JsonFieldReader Fields = new(Wording);

    /// <summary>
    /// The top-level fields the reader does not read: unsupported, <c>top_k</c>; ignored because ignoring them cannot
    /// change the answer (the README says why), <c>service_tier</c>.
    /// </summary>
    /// <remarks><c>service_tier</c> picks Anthropic's capacity pool, which changes availability and price, never the text.</remarks>
    internal static readonly RequestFieldTable TopLevel = new(
        Fields,
        unsupported: [KeyValuePair.Create("top_k", "top_k: Gatehouse does not support 'top_k' (not every upstream has it); use 'top_p'.")],
        ignored: ["service_tier"]);

    private static readonly ToolDefinitionReader Tools = new(Fields, schemaField: "input_schema");

    // cache_control marks a prompt-cache breakpoint: it changes cost and latency at Anthropic, never the answer.
    private static readonly FrozenSet<string> MessageFields = FrozenSet.Create("role", "content");
    private static readonly FrozenSet<string> TextBlockFields = FrozenSet.Create("type", "text", "cache_control", "citations");
    private static readonly FrozenSet<string> ImageBlockFields = FrozenSet.Create("type", "source", "cache_control");
    private static readonly FrozenSet<string> Base64SourceFields = FrozenSet.Create("type", "media_type", "data");
    private static readonly FrozenSet<string> UrlSourceFields = FrozenSet.Create("type", "url");
    private static readonly FrozenSet<string> ToolUseBlockFields = FrozenSet.Create("type", "id", "name", "input", "cache_control");
    private static readonly FrozenSet<string> ToolResultBlockFields = FrozenSet.Create("type", "tool_use_id", "content", "is_error", "cache_control");
    private static readonly FrozenSet<string> ToolFields = FrozenSet.Create("type", "name", "description", "input_schema", "cache_control");
    private static readonly FrozenSet<string> ToolChoiceFields = FrozenSet.Create("type", "name", "disable_parallel_tool_use");
    private static readonly FrozenSet<string> MetadataFields = FrozenSet.Create("user_id");
    private static readonly FrozenSet<string> ThinkingFields = FrozenSet.Create("type");

    public static (ChatRequest Request, bool Stream) Read(JsonElement root, ImageUrlPolicy images)
    {
        string? model = null;
        int? maxTokens = null;
        string? system = null;
        var messages = ImmutableArray.CreateBuilder<ChatMessage>();
        var hasMessages = false;
        double? temperature = null, topP = null;
        ImmutableArray<string> stop = [];
        ImmutableArray<ToolDefinition> tools = [];
        ToolChoice? toolChoice = null;
        bool? parallelToolCalls = null;
        string? user = null;
        var stream = false;

        foreach (var property in TopLevel.Properties(root))
        {
            var value = property.Value;
            switch (property.Name)
            {
                case "model": model = Fields.ReadString(value, "model"); break;
                case "max_tokens": maxTokens = Fields.ReadInt(value, "max_tokens", 1); break;
                case "system": system = ReadSystem(value); break;
                case "messages":
                    hasMessages = true;
                    ReadMessages(value, messages, images);
                    break;
                case "temperature": temperature = Fields.ReadNumber(value, "temperature", 0, 1); break;
                case "top_p": topP = Fields.ReadNumber(value, "top_p", 0, 1); break;
                case "stop_sequences": stop = ReadStrings(value, "stop_sequences"); break;
                case "stream": stream = value.ValueKind != JsonValueKind.Null && Fields.ReadBool(value, "stream"); break;
                case "tools": tools = Tools.ReadTools(value, ReadTool); break;
                case "tool_choice": (toolChoice, parallelToolCalls) = ReadToolChoice(value); break;
                case "metadata":
                    if (value.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null))
                    {
                        throw Fields.WrongType("metadata", "an object", value);
                    }

                    if (value.ValueKind == JsonValueKind.Object)
                    {
                        Fields.EnsureKnown(value, "metadata", MetadataFields);
                    }

                    if (value.ValueKind == JsonValueKind.Object && value.TryGetProperty("user_id", out var userId) && userId.ValueKind != JsonValueKind.Null)
                    {
                        user = Fields.ReadString(userId, "metadata.user_id");
                    }

                    break;
                case "thinking":
                    if (value.ValueKind != JsonValueKind.Null
                        && !(value.ValueKind == JsonValueKind.Object && value.TryGetProperty("type", out var thinkingType) && thinkingType.ValueEquals("disabled")))
                    {
                        throw Invalid("thinking: Gatehouse does not support extended thinking.", "thinking");
                    }

                    if (value.ValueKind == JsonValueKind.Object)
                    {
                        Fields.EnsureKnown(value, "thinking", ThinkingFields);
                    }

                    break;
                default:
                    TopLevel.ReadOther(property);
                    break;
            }
        }

        if (string.IsNullOrWhiteSpace(model))
        {
            throw Fields.Required("model");
        }

        if (maxTokens is null)
        {
            throw Fields.Required("max_tokens");
        }

        if (!hasMessages)
        {
            throw Fields.Required("messages");
        }

        if (messages.Count == 0)
        {
            throw Invalid("messages: at least one message is required", "messages");
        }

        if (toolChoice is { Mode: ToolChoiceMode.Function } && !tools.Any(t => t.Name == toolChoice.FunctionName))
        {
            throw Invalid($"tool_choice.name: tool '{toolChoice.FunctionName}' is not in 'tools'.", "tool_choice.name");
        }

        if (system is not null)
        {
            messages.Insert(0, ChatMessage.FromText(ChatRole.System, system));
        }

        var request = new ChatRequest
        {
            Model = model,
            Messages = messages.ToImmutable(),
            MaxTokens = maxTokens,
            Temperature = temperature,
            TopP = topP,
            Stop = stop,
            Tools = tools,
            ToolChoice = toolChoice,
            ParallelToolCalls = parallelToolCalls,
            User = user,
            // Anthropic streams always report usage (message_start and message_delta), so the writer needs it.
            IncludeUsage = stream,
        };
        return (request, stream);
    }

    private static string? ReadSystem(JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Null:
                return null;
            case JsonValueKind.String:
                return value.GetString();
            case JsonValueKind.Array:
                var text = new StringBuilder();
                var index = 0;
                foreach (var block in value.EnumerateArray())
                {
                    var path = $"system.{index++}";
                    if (BlockType(block, path) != "text")
                    {
                        throw Invalid($"{path}.type: system prompts may hold only text blocks.", $"{path}.type");
                    }

                    EnsureTextBlock(block, path);

                    if (text.Length > 0)
                    {
                        text.Append("\n\n");
                    }

                    text.Append(Fields.ReadRequiredString(block, "text", path));
                }

                return text.ToString();
            default:
                throw Fields.WrongType("system", "a string or an array of text blocks", value);
        }
    }

    private static void ReadMessages(JsonElement value, ImmutableArray<ChatMessage>.Builder messages, ImageUrlPolicy images)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw Fields.WrongType("messages", "an array", value);
        }

        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            var path = $"messages.{index++}";
            if (item.ValueKind != JsonValueKind.Object)
            {
                throw Fields.WrongType(path, "an object", item);
            }

            Fields.EnsureKnown(item, path, MessageFields);
            if (!item.TryGetProperty("role", out var roleElement))
            {
                throw Fields.Required($"{path}.role");
            }

            var role = Fields.ReadString(roleElement, $"{path}.role") switch
            {
                "user" => ChatRole.User,
                "assistant" => ChatRole.Assistant,
                var other => throw Invalid($"{path}.role: Input should be 'user' or 'assistant' (got '{other}')", $"{path}.role"),
            };

            if (!item.TryGetProperty("content", out var content))
            {
                throw Fields.Required($"{path}.content");
            }

            if (content.ValueKind == JsonValueKind.String)
            {
                messages.Add(ChatMessage.FromText(role, content.GetString()!));
                continue;
            }

            if (content.ValueKind != JsonValueKind.Array)
            {
                throw Fields.WrongType($"{path}.content", "a string or an array of content blocks", content);
            }

            ReadBlocks(content, role, $"{path}.content", messages, images);
        }
    }

    /// <summary>
    /// One Anthropic turn may become several canonical messages: each tool_result block is a tool message of its own,
    /// followed by the turn's other content as a user message.
    /// </summary>
    private static void ReadBlocks(JsonElement content, ChatRole role, string path, ImmutableArray<ChatMessage>.Builder messages, ImageUrlPolicy images)
    {
        var parts = ImmutableArray.CreateBuilder<ContentPart>();
        var calls = ImmutableArray.CreateBuilder<ToolCall>();
        var index = 0;
        foreach (var block in content.EnumerateArray())
        {
            var blockPath = $"{path}.{index++}";
            switch (BlockType(block, blockPath))
            {
                case "text":
                    EnsureTextBlock(block, blockPath);
                    parts.Add(ContentPart.FromText(Fields.ReadRequiredString(block, "text", blockPath)));
                    break;
                case "image" when role == ChatRole.User:
                    parts.Add(ReadImage(block, blockPath, images));
                    break;
                case "tool_use" when role == ChatRole.Assistant:
                    Fields.EnsureKnown(block, blockPath, ToolUseBlockFields);
                    var input = block.TryGetProperty("input", out var inputElement) ? inputElement : default;
                    if (input.ValueKind != JsonValueKind.Object)
                    {
                        throw Fields.WrongType($"{blockPath}.input", "an object", input);
                    }

                    calls.Add(new ToolCall
                    {
                        Id = Fields.ReadRequiredString(block, "id", blockPath),
                        Name = Fields.ReadRequiredString(block, "name", blockPath),
                        ArgumentsJson = input.GetRawText(),
                    });
                    break;
                case "tool_result" when role == ChatRole.User:
                    Fields.EnsureKnown(block, blockPath, ToolResultBlockFields);
                    // An error result tells the model its call failed; the canonical tool message cannot say so.
                    if (block.TryGetProperty("is_error", out var isError) && isError.ValueKind != JsonValueKind.Null && Fields.ReadBool(isError, $"{blockPath}.is_error"))
                    {
                        throw Invalid($"{blockPath}.is_error: Gatehouse does not support error tool results; describe the error in 'content'.", $"{blockPath}.is_error");
                    }

                    messages.Add(new ChatMessage
                    {
                        Role = ChatRole.Tool,
                        ToolCallId = Fields.ReadRequiredString(block, "tool_use_id", blockPath),
                        Content = [ContentPart.FromText(ReadToolResultContent(block, blockPath))],
                    });
                    break;
                case var type:
                    throw Invalid(
                        $"{blockPath}.type: '{type}' blocks are not supported in {(role == ChatRole.User ? "user" : "assistant")} messages by Gatehouse.",
                        $"{blockPath}.type");
            }
        }

        if (parts.Count > 0 || calls.Count > 0)
        {
            messages.Add(new ChatMessage { Role = role, Content = parts.ToImmutable(), ToolCalls = calls.ToImmutable() });
        }
        else if (index == 0)
        {
            throw Invalid($"{path}: all messages must have non-empty content", path);
        }
    }

    private static string ReadToolResultContent(JsonElement block, string path)
    {
        if (!block.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null)
        {
            return string.Empty;
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString()!;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            throw Fields.WrongType($"{path}.content", "a string or an array of text blocks", content);
        }

        var text = new StringBuilder();
        var index = 0;
        foreach (var part in content.EnumerateArray())
        {
            var partPath = $"{path}.content.{index++}";
            if (BlockType(part, partPath) != "text")
            {
                throw Invalid($"{partPath}.type: Gatehouse supports only text in tool results.", $"{partPath}.type");
            }

            EnsureTextBlock(part, partPath);

            text.Append(Fields.ReadRequiredString(part, "text", partPath));
        }

        return text.ToString();
    }

    private static ContentPart ReadImage(JsonElement block, string path, ImageUrlPolicy images)
    {
        Fields.EnsureKnown(block, path, ImageBlockFields);
        if (!block.TryGetProperty("source", out var source) || source.ValueKind != JsonValueKind.Object)
        {
            throw Fields.Required($"{path}.source");
        }

        var sourcePath = $"{path}.source";
        var (url, urlPath, known) = Fields.ReadRequiredString(source, "type", sourcePath) switch
        {
            "base64" => ($"data:{Fields.ReadRequiredString(source, "media_type", sourcePath)};base64,{Fields.ReadRequiredString(source, "data", sourcePath)}", $"{sourcePath}.data", Base64SourceFields),
            "url" => (Fields.ReadRequiredString(source, "url", sourcePath), $"{sourcePath}.url", UrlSourceFields),
            var other => throw Invalid($"{sourcePath}.type: '{other}' is not supported; use 'base64' or 'url'.", $"{sourcePath}.type"),
        };
        Fields.EnsureKnown(source, sourcePath, known);
        if (!images.IsAllowed(url))
        {
            throw Invalid($"{urlPath}: the image must be {images.Allowed}", urlPath);
        }

        return new ContentPart { Kind = ContentPartKind.ImageUrl, ImageUrl = url };
    }

    /// <summary>A custom tool: <c>{"name", "description", "input_schema"}</c>; server tools have a type of their own.</summary>
    private static ToolDefinition ReadTool(JsonElement tool, string path)
    {
        if (tool.ValueKind != JsonValueKind.Object)
        {
            throw Fields.WrongType(path, "an object", tool);
        }

        if (tool.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && !type.ValueEquals("custom"))
        {
            throw Invalid($"{path}.type: server tools ('{type.GetString()}') are not supported by Gatehouse; only custom tools.", $"{path}.type");
        }

        if (!tool.TryGetProperty("input_schema", out var schema) || schema.ValueKind != JsonValueKind.Object)
        {
            throw Invalid($"{path}.input_schema: Field required (an object)", $"{path}.input_schema");
        }

        Fields.EnsureKnown(tool, path, ToolFields);
        return Tools.ReadFunction(tool, path);
    }

    private static (ToolChoice? Choice, bool? ParallelToolCalls) ReadToolChoice(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return (null, null);
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Fields.WrongType("tool_choice", "an object", value);
        }

        Fields.EnsureKnown(value, "tool_choice", ToolChoiceFields);

        var choice = Fields.ReadRequiredString(value, "type", "tool_choice") switch
        {
            "auto" => new ToolChoice { Mode = ToolChoiceMode.Auto },
            "any" => new ToolChoice { Mode = ToolChoiceMode.Required },
            "none" => new ToolChoice { Mode = ToolChoiceMode.None },
            "tool" => new ToolChoice { Mode = ToolChoiceMode.Function, FunctionName = Fields.ReadRequiredString(value, "name", "tool_choice") },
            var other => throw Invalid($"tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none' (got '{other}')", "tool_choice.type"),
        };

        return (choice, !Fields.ReadOptionalBool(value, "disable_parallel_tool_use", "tool_choice"));
    }

    /// <summary>A text block's own fields; citations point into documents, which Gatehouse does not carry.</summary>
    private static void EnsureTextBlock(JsonElement block, string path)
    {
        Fields.EnsureKnown(block, path, TextBlockFields);
        if (block.TryGetProperty("citations", out var citations) && citations.ValueKind != JsonValueKind.Null
            && !(citations.ValueKind == JsonValueKind.Array && citations.GetArrayLength() == 0))
        {
            throw Invalid($"{path}.citations: Gatehouse does not support citations.", $"{path}.citations");
        }
    }

    private static string BlockType(JsonElement block, string path)
    {
        if (block.ValueKind != JsonValueKind.Object)
        {
            throw Fields.WrongType(path, "an object", block);
        }

        return Fields.ReadRequiredString(block, "type", path);
    }

    private static ImmutableArray<string> ReadStrings(JsonElement value, string path)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw Fields.WrongType(path, "an array of strings", value);
        }

        var strings = ImmutableArray.CreateBuilder<string>();
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            strings.Add(Fields.ReadString(item, $"{path}.{index++}"));
        }

        return strings.ToImmutable();
    }

    private static GatewayException Invalid(string message, string? param) => JsonFieldReader.Invalid(message, param);
}
