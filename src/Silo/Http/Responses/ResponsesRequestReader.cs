using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using Gatehouse.Chat;
using Gatehouse.Errors;
using Gatehouse.Silo.Http.OpenAI;

namespace Gatehouse.Silo.Http.Responses;

/// <summary>Reads an OpenAI Responses API request body (<c>POST /v1/responses</c>) into a <see cref="ResponsesRequest"/>.</summary>
/// <remarks>
/// Worded and validated like <see cref="OpenAIRequestReader"/>: every problem is a <see cref="GatewayException"/> of
/// kind <see cref="GatewayError.InvalidRequest"/> whose param is the JSON path at fault (<c>input[2].type</c>). What
/// Gatehouse cannot honour — built-in tools, background mode, reasoning, server-side conversations and prompts, file
/// ids — is rejected rather than dropped; only the ignored fields of <see cref="TopLevel"/> are accepted without effect.
/// </remarks>
internal static class ResponsesRequestReader
{
    private static readonly JsonFieldReader Fields = new(OpenAIRequestReader.Wording, nullIsMissing: true);

    /// <summary>
    /// The top-level fields the reader does not read. Unsupported: fields that change the answer and that Gatehouse
    /// cannot carry. Ignored, because ignoring them cannot change the answer: OpenAI's billing tier, prompt-cache
    /// routing and retention, and abuse monitoring.
    /// </summary>
    internal static readonly RequestFieldTable TopLevel = new(
        Fields,
        unsupported: RequestFieldTable.NotSupported("reasoning", "conversation", "prompt"),
        ignored: ["service_tier", "prompt_cache_key", "prompt_cache_retention", "safety_identifier"]);

    private static readonly ToolDefinitionReader Tools = new(Fields);
    private static readonly ResponseFormatReader Formats = new(Fields);

    /// <summary>OpenAI's limits on <c>metadata</c>.</summary>
    internal const int MaxMetadataKeys = 16, MaxMetadataKeyLength = 64, MaxMetadataValueLength = 512;

    private static readonly FrozenSet<string> MessageFields = FrozenSet.Create("type", "role", "content", "id", "status");
    private static readonly FrozenSet<string> FunctionCallFields = FrozenSet.Create("type", "call_id", "name", "arguments", "id", "status");
    private static readonly FrozenSet<string> FunctionCallOutputFields = FrozenSet.Create("type", "call_id", "output", "id", "status");
    private static readonly FrozenSet<string> InputTextFields = FrozenSet.Create("type", "text");
    private static readonly FrozenSet<string> OutputTextFields = FrozenSet.Create("type", "text", "annotations", "logprobs");
    private static readonly FrozenSet<string> RefusalFields = FrozenSet.Create("type", "refusal");
    private static readonly FrozenSet<string> InputImageFields = FrozenSet.Create("type", "image_url", "file_id", "detail");
    private static readonly FrozenSet<string> ToolFields = FrozenSet.Create("type", "name", "description", "parameters", "strict");
    private static readonly FrozenSet<string> ToolChoiceFields = FrozenSet.Create("type", "name");
    private static readonly FrozenSet<string> TextFields = FrozenSet.Create("format", "verbosity");
    private static readonly FrozenSet<string> JsonSchemaFields = FrozenSet.Create("type", "name", "schema", "description", "strict");

    public static ResponsesRequest Read(JsonElement root, ImageUrlPolicy images)
    {
        string? model = null, instructions = null, previousResponseId = null, user = null;
        ImmutableArray<ChatMessage>? input = null;
        double? temperature = null, topP = null;
        int? maxOutputTokens = null;
        ResponseFormat? format = null;
        ImmutableArray<ToolDefinition> tools = [];
        ToolChoice? toolChoice = null;
        bool stream = false, store = true;
        bool? parallelToolCalls = null;
        var metadata = ImmutableDictionary<string, string>.Empty;

        foreach (var property in TopLevel.Properties(root))
        {
            var value = property.Value;
            switch (property.Name)
            {
                case "model": model = Fields.ReadString(value, "model"); break;
                case "input": input = ReadInput(value, images); break;
                case "instructions": instructions = ReadOptionalString(value, "instructions"); break;
                case "tools": tools = Tools.ReadTools(value, ReadTool); break;
                case "tool_choice": toolChoice = ReadToolChoice(value); break;
                case "temperature": temperature = Fields.ReadNumber(value, "temperature", 0, 2); break;
                case "top_p": topP = Fields.ReadNumber(value, "top_p", 0, 1); break;
                case "max_output_tokens":
                    maxOutputTokens = value.ValueKind == JsonValueKind.Null ? null : Fields.ReadInt(value, "max_output_tokens", 1);
                    break;
                case "text": format = ReadText(value); break;
                case "stream": stream = value.ValueKind != JsonValueKind.Null && Fields.ReadBool(value, "stream"); break;
                case "store": store = value.ValueKind == JsonValueKind.Null || Fields.ReadBool(value, "store"); break;
                case "previous_response_id":
                    previousResponseId = ReadOptionalString(value, "previous_response_id");
                    if (previousResponseId is { Length: 0 })
                    {
                        throw Invalid("Invalid 'previous_response_id': it must not be empty.", "previous_response_id");
                    }

                    break;
                case "metadata": metadata = ReadMetadata(value); break;
                case "user": user = ReadOptionalString(value, "user"); break;
                case "parallel_tool_calls":
                    parallelToolCalls = value.ValueKind == JsonValueKind.Null ? null : Fields.ReadBool(value, "parallel_tool_calls");
                    break;
                case "background":
                    if (value.ValueKind != JsonValueKind.Null && Fields.ReadBool(value, "background"))
                    {
                        throw Invalid("Gatehouse does not support 'background' responses.", "background");
                    }

                    break;
                case "truncation":
                    if (value.ValueKind != JsonValueKind.Null && Fields.ReadString(value, "truncation") != "disabled")
                    {
                        throw Invalid("Gatehouse supports only 'truncation': 'disabled'.", "truncation");
                    }

                    break;
                case "include":
                    if (value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Array))
                    {
                        throw Fields.WrongType("include", "an array", value);
                    }

                    if (value.ValueKind == JsonValueKind.Array && value.GetArrayLength() > 0)
                    {
                        throw Invalid("Gatehouse does not support 'include'.", "include");
                    }

                    break;
                default:
                    TopLevel.ReadOther(property);
                    break;
            }
        }

        if (string.IsNullOrWhiteSpace(model))
        {
            throw Invalid("you must provide a model parameter", "model");
        }

        if (input is not { Length: > 0 } && previousResponseId is null)
        {
            throw Invalid(input is null ? "'input' is a required property" : "'input' must contain at least one item.", "input");
        }

        if (toolChoice is { Mode: ToolChoiceMode.Function } && !tools.Any(t => t.Name == toolChoice.FunctionName))
        {
            throw Invalid($"tool_choice names function '{toolChoice.FunctionName}', which is not in 'tools'.", "tool_choice");
        }

        var options = new ChatRequest
        {
            Model = model,
            Messages = [],
            Temperature = temperature,
            TopP = topP,
            MaxTokens = maxOutputTokens,
            ResponseFormat = format,
            Tools = tools,
            ToolChoice = toolChoice,
            User = user,
            IncludeUsage = true,
            ParallelToolCalls = parallelToolCalls,
        };
        return new ResponsesRequest
        {
            Options = options,
            Input = input ?? [],
            Instructions = instructions,
            PreviousResponseId = previousResponseId,
            Stream = stream,
            Store = store,
            Metadata = metadata,
        };
    }

    private static ImmutableArray<ChatMessage> ReadInput(JsonElement value, ImageUrlPolicy images)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Null:
                return [];
            case JsonValueKind.String:
                return [ChatMessage.FromText(ChatRole.User, value.GetString()!)];
            case JsonValueKind.Array:
                break;
            default:
                throw Fields.WrongType("input", "a string or an array of input items", value);
        }

        var messages = new List<ChatMessage>(value.GetArrayLength());
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            var path = $"input[{index++}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                throw Fields.WrongType(path, "an object", item);
            }

            var type = item.TryGetProperty("type", out var typeElement) && typeElement.ValueKind != JsonValueKind.Null
                ? Fields.ReadString(typeElement, $"{path}.type")
                : null;
            switch (type)
            {
                // An item without a type is OpenAI's "easy input message": a role and a content.
                case null or "message":
                    messages.Add(ReadMessage(item, path, images));
                    break;
                case "function_call":
                    var call = ReadFunctionCall(item, path);
                    // Consecutive calls, and the assistant message right before them, are one assistant turn.
                    if (messages.Count > 0 && messages[^1] is { Role: ChatRole.Assistant } previous)
                    {
                        messages[^1] = previous with { ToolCalls = previous.ToolCalls.Add(call) };
                    }
                    else
                    {
                        messages.Add(new ChatMessage { Role = ChatRole.Assistant, ToolCalls = [call] });
                    }

                    break;
                case "function_call_output":
                    messages.Add(ReadFunctionCallOutput(item, path));
                    break;
                case "reasoning":
                    throw Invalid($"Gatehouse does not support reasoning items ('{path}').", $"{path}.type");
                case "item_reference":
                    throw Invalid($"Gatehouse does not support item references ('{path}'); send the item itself.", $"{path}.type");
                default:
                    throw Invalid(
                        $"Input item type '{type}' is not supported by Gatehouse (supported: 'message', 'function_call', 'function_call_output').",
                        $"{path}.type");
            }
        }

        return [.. messages];
    }

    private static ChatMessage ReadMessage(JsonElement item, string path, ImageUrlPolicy images)
    {
        Fields.EnsureKnown(item, path, MessageFields);
        ReadIgnoredItemFields(item, path);
        if (!item.TryGetProperty("role", out var roleElement))
        {
            throw Fields.Required($"{path}.role");
        }

        var role = Fields.ReadString(roleElement, $"{path}.role") switch
        {
            "user" => ChatRole.User,
            "assistant" => ChatRole.Assistant,
            "system" or "developer" => ChatRole.System,
            var other => throw Invalid(
                $"Invalid value for '{path}.role': '{other}'. Supported values are: 'user', 'assistant', 'system' and 'developer'.", $"{path}.role"),
        };

        if (!item.TryGetProperty("content", out var content))
        {
            throw Fields.Required($"{path}.content");
        }

        return new ChatMessage { Role = role, Content = ReadContent(content, $"{path}.content", role, images) };
    }

    private static ImmutableArray<ContentPart> ReadContent(JsonElement value, string path, ChatRole role, ImageUrlPolicy images)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                return [ContentPart.FromText(value.GetString()!)];
            case JsonValueKind.Array:
                if (value.GetArrayLength() == 0)
                {
                    throw Invalid($"Invalid '{path}': a message must have at least one content part.", path);
                }

                var parts = ImmutableArray.CreateBuilder<ContentPart>(value.GetArrayLength());
                var index = 0;
                foreach (var part in value.EnumerateArray())
                {
                    parts.Add(ReadContentPart(part, $"{path}[{index++}]", role, images));
                }

                return parts.MoveToImmutable();
            default:
                throw Fields.WrongType(path, "a string or an array of content parts", value);
        }
    }

    private static ContentPart ReadContentPart(JsonElement part, string path, ChatRole role, ImageUrlPolicy images)
    {
        if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var typeElement))
        {
            throw Invalid($"'{path}' must be an object with a 'type'.", path);
        }

        var type = Fields.ReadString(typeElement, $"{path}.type");
        switch (type)
        {
            case "input_text":
                Fields.EnsureKnown(part, path, InputTextFields);
                return ContentPart.FromText(Fields.ReadRequiredString(part, "text", path));
            case "output_text" when role == ChatRole.Assistant:
                Fields.EnsureKnown(part, path, OutputTextFields);
                // Annotations and log probabilities describe the text; the model reading it back sees only the text.
                EnsureArrayOrNull(part, "annotations", path);
                EnsureArrayOrNull(part, "logprobs", path);
                return ContentPart.FromText(Fields.ReadRequiredString(part, "text", path));
            case "refusal" when role == ChatRole.Assistant:
                Fields.EnsureKnown(part, path, RefusalFields);
                // The canonical message has no refusal part: the model reads the refusal back as what it said.
                return ContentPart.FromText(Fields.ReadRequiredString(part, "refusal", path));
            case "input_image" when role == ChatRole.User:
                Fields.EnsureKnown(part, path, InputImageFields);
                return ReadImage(part, path, images);
            case "input_image":
                throw Invalid($"Image content is only allowed in user messages ('{path}').", path);
            case "input_text" or "output_text" or "refusal":
                throw Invalid(
                    $"Content part type '{type}' is not allowed in {RoleName(role)} messages ('{path}.type').", $"{path}.type");
            default:
                throw Invalid(
                    $"Content part type '{type}' is not supported by Gatehouse (supported: 'input_text', 'input_image'; in assistant messages 'output_text', 'refusal').",
                    $"{path}.type");
        }
    }

    private static ContentPart ReadImage(JsonElement part, string path, ImageUrlPolicy images)
    {
        if (part.TryGetProperty("file_id", out var fileId) && fileId.ValueKind != JsonValueKind.Null)
        {
            throw Invalid($"Gatehouse does not support file ids ('{path}.file_id'); send the image as 'image_url'.", $"{path}.file_id");
        }

        var url = Fields.ReadRequiredString(part, "image_url", path);
        if (!images.IsAllowed(url))
        {
            throw Invalid($"Invalid '{path}.image_url': it must be {images.Allowed}.", $"{path}.image_url");
        }

        var detail = Fields.ReadOptionalString(part, "detail", path);
        return new ContentPart { Kind = ContentPartKind.ImageUrl, ImageUrl = url, ImageDetail = detail };
    }

    private static ToolCall ReadFunctionCall(JsonElement item, string path)
    {
        Fields.EnsureKnown(item, path, FunctionCallFields);
        ReadIgnoredItemFields(item, path);
        return new ToolCall
        {
            Id = Fields.ReadRequiredString(item, "call_id", path),
            Name = Fields.ReadRequiredString(item, "name", path),
            ArgumentsJson = Fields.ReadRequiredString(item, "arguments", path),
        };
    }

    private static ChatMessage ReadFunctionCallOutput(JsonElement item, string path)
    {
        Fields.EnsureKnown(item, path, FunctionCallOutputFields);
        ReadIgnoredItemFields(item, path);
        var callId = Fields.ReadRequiredString(item, "call_id", path);
        if (!item.TryGetProperty("output", out var output))
        {
            throw Fields.Required($"{path}.output");
        }

        string text;
        switch (output.ValueKind)
        {
            case JsonValueKind.String:
                text = output.GetString()!;
                break;
            case JsonValueKind.Array:
                // A tool message is text: parts other than text would need a place the canonical message does not have.
                var builder = new StringBuilder();
                var index = 0;
                foreach (var part in output.EnumerateArray())
                {
                    var partPath = $"{path}.output[{index++}]";
                    if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type))
                    {
                        throw Invalid($"'{partPath}' must be an object with a 'type'.", partPath);
                    }

                    if (Fields.ReadString(type, $"{partPath}.type") != "input_text")
                    {
                        throw Invalid($"Gatehouse supports only 'input_text' parts in a function call output ('{partPath}.type').", $"{partPath}.type");
                    }

                    Fields.EnsureKnown(part, partPath, InputTextFields);
                    builder.Append(Fields.ReadRequiredString(part, "text", partPath));
                }

                text = builder.ToString();
                break;
            default:
                throw Fields.WrongType($"{path}.output", "a string or an array of content parts", output);
        }

        return new ChatMessage { Role = ChatRole.Tool, ToolCallId = callId, Content = [ContentPart.FromText(text)] };
    }

    /// <summary>An item's <c>id</c> and <c>status</c> (what OpenAI returned it with) say nothing the model needs; only their types are checked.</summary>
    private static void ReadIgnoredItemFields(JsonElement item, string path)
    {
        if (item.TryGetProperty("id", out var id))
        {
            ReadOptionalString(id, $"{path}.id");
        }

        if (item.TryGetProperty("status", out var status))
        {
            ReadOptionalString(status, $"{path}.status");
        }
    }

    /// <summary>A function tool: <c>{"type":"function","name",...}</c>; the built-in tools have types of their own.</summary>
    private static ToolDefinition ReadTool(JsonElement tool, string path)
    {
        if (tool.ValueKind != JsonValueKind.Object)
        {
            throw Fields.WrongType(path, "an object", tool);
        }

        if (!tool.TryGetProperty("type", out var typeElement))
        {
            throw Fields.Required($"{path}.type");
        }

        var type = Fields.ReadString(typeElement, $"{path}.type");
        if (type != "function")
        {
            throw Invalid($"Gatehouse does not support the '{type}' tool; only 'function' tools are supported.", $"{path}.type");
        }

        Fields.EnsureKnown(tool, path, ToolFields);
        return Tools.ReadFunction(tool, path);
    }

    private static ToolChoice? ReadToolChoice(JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Null:
                return null;
            case JsonValueKind.String:
                return OpenAIToolChoiceModes.Parse(value.GetString());
            case JsonValueKind.Object:
                if (!value.TryGetProperty("type", out var type))
                {
                    throw Fields.Required("tool_choice.type");
                }

                var kind = Fields.ReadString(type, "tool_choice.type");
                if (kind != "function")
                {
                    throw Invalid($"Gatehouse does not support tool_choice type '{kind}'; only 'function' is supported.", "tool_choice.type");
                }

                Fields.EnsureKnown(value, "tool_choice", ToolChoiceFields);
                return new ToolChoice { Mode = ToolChoiceMode.Function, FunctionName = Fields.ReadRequiredString(value, "name", "tool_choice") };
            default:
                throw Invalid("'tool_choice' must be 'none', 'auto', 'required' or {\"type\":\"function\",\"name\":...}.", "tool_choice");
        }
    }

    private static ResponseFormat? ReadText(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Fields.WrongType("text", "an object", value);
        }

        Fields.EnsureKnown(value, "text", TextFields);
        if (value.TryGetProperty("verbosity", out var verbosity) && verbosity.ValueKind != JsonValueKind.Null)
        {
            throw Invalid("Gatehouse does not support 'text.verbosity'.", "text.verbosity");
        }

        return value.TryGetProperty("format", out var format) ? Formats.Read(format, "text.format", ReadJsonSchemaFormat) : null;
    }

    /// <summary>A <c>json_schema</c> text format: <c>{"type":"json_schema","name",...}</c>.</summary>
    private static ResponseFormat ReadJsonSchemaFormat(JsonElement format, string path)
    {
        Fields.EnsureKnown(format, path, JsonSchemaFields);
        Formats.RefuseDescription(format, path);
        return Formats.ReadJsonSchema(format, path);
    }

    private static ImmutableDictionary<string, string> ReadMetadata(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return ImmutableDictionary<string, string>.Empty;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Fields.WrongType("metadata", "an object", value);
        }

        var metadata = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var property in value.EnumerateObject())
        {
            if (metadata.Count == MaxMetadataKeys)
            {
                throw Invalid($"Invalid 'metadata': it may hold at most {MaxMetadataKeys} keys.", "metadata");
            }

            if (property.Name.Length > MaxMetadataKeyLength)
            {
                throw Invalid($"Invalid 'metadata': a key may be at most {MaxMetadataKeyLength} characters long.", "metadata");
            }

            var path = $"metadata.{property.Name}";
            var text = Fields.ReadString(property.Value, path);
            if (text.Length > MaxMetadataValueLength)
            {
                throw Invalid($"Invalid '{path}': a value may be at most {MaxMetadataValueLength} characters long.", path);
            }

            metadata[property.Name] = text;
        }

        return metadata.ToImmutable();
    }

    private static string? ReadOptionalString(JsonElement value, string path) =>
        value.ValueKind == JsonValueKind.Null ? null : Fields.ReadString(value, path);

    private static void EnsureArrayOrNull(JsonElement item, string name, string path)
    {
        if (item.TryGetProperty(name, out var value) && value.ValueKind is not (JsonValueKind.Array or JsonValueKind.Null))
        {
            throw Fields.WrongType($"{path}.{name}", "an array", value);
        }
    }

    private static string RoleName(ChatRole role) => role switch
    {
        ChatRole.User => "user",
        ChatRole.Assistant => "assistant",
        _ => "system",
    };

    private static GatewayException Invalid(string message, string? param) => JsonFieldReader.Invalid(message, param);
}
