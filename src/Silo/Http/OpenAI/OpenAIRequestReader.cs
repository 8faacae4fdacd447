using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Text.Json;
using Gatehouse.Chat;
using Gatehouse.Errors;

namespace Gatehouse.Silo.Http.OpenAI;

/// <summary>Reads an OpenAI Chat Completions request body into the canonical <see cref="ChatRequest"/>.</summary>
/// <remarks>
/// Every problem becomes a <see cref="GatewayException"/> of kind <see cref="GatewayError.InvalidRequest"/> naming the
/// field, in OpenAI's wording where it has one. Fields Gatehouse cannot honour (n &gt; 1, logprobs, audio, ...) and fields it
/// does not know are rejected rather than dropped; only the ignored fields of <see cref="TopLevel"/> are accepted without effect.
/// </remarks>
internal static class OpenAIRequestReader
{
    /// <summary>OpenAI's wording of a field error; the admin API words its errors the same way.</summary>
    internal static readonly JsonFieldReader.Wording Wording = new(
        WrongType: (path, expected, actual) => $"Invalid type for '{path}': expected {expected}, but got {actual} instead.",
        OutOfRange: (path, number, min, max) => $"Invalid '{path}': {number} is out of range; it must be between {min} and {max}.",
        BelowMinimum: (path, number, min) => $"Invalid '{path}': {number}; it must be at least {min}.",
        Unrecognized: path => $"Unrecognized request argument supplied: {path}",
        Required: path => $"'{path}' is a required property",
        NotText: (path, isName) => isName
            ? $"Invalid request: a property name {(path.Length == 0 ? "at the top level of the body" : $"in '{path}'")} is not valid UTF-8 text (invalid bytes or an unpaired surrogate escape such as \\ud800)."
            : $"Invalid '{path}': the string is not valid UTF-8 text (invalid bytes or an unpaired surrogate escape such as \\ud800).",
        Index: (path, index) => $"{path}[{index}]");

    private static readonly JsonFieldReader Fields = new(Wording);

    /// <summary>
    /// The top-level fields the reader does not read. Unsupported: fields of OpenAI's API that change the answer and
    /// that no canonical request can carry. Ignored, because ignoring them cannot change the answer: they concern
    /// OpenAI's own storage, billing tier, prompt-cache routing and latency, or abuse monitoring (the README lists why for each).
    /// </summary>
    internal static readonly RequestFieldTable TopLevel = new(
        Fields,
        unsupported: RequestFieldTable.NotSupported(
            "top_logprobs", "logit_bias", "audio", "modalities", "reasoning_effort", "verbosity", "web_search_options"),
        ignored: ["store", "metadata", "service_tier", "prompt_cache_key", "safety_identifier", "prediction"]);

    private static readonly ToolDefinitionReader Tools = new(Fields);
    private static readonly ResponseFormatReader Formats = new(Fields);

    private static readonly FrozenSet<string> MessageFields = FrozenSet.Create("role", "content", "name", "tool_calls", "tool_call_id", "refusal");
    private static readonly FrozenSet<string> TextPartFields = FrozenSet.Create("type", "text");
    private static readonly FrozenSet<string> ImagePartFields = FrozenSet.Create("type", "image_url");
    private static readonly FrozenSet<string> ImageUrlFields = FrozenSet.Create("url", "detail");
    private static readonly FrozenSet<string> ToolCallFields = FrozenSet.Create("id", "type", "function");
    private static readonly FrozenSet<string> ToolCallFunctionFields = FrozenSet.Create("name", "arguments");
    private static readonly FrozenSet<string> ToolFields = FrozenSet.Create("type", "function");
    private static readonly FrozenSet<string> ToolFunctionFields = FrozenSet.Create("name", "description", "parameters", "strict");
    private static readonly FrozenSet<string> ToolChoiceFields = FrozenSet.Create("type", "function");
    private static readonly FrozenSet<string> ToolChoiceFunctionFields = FrozenSet.Create("name");
    private static readonly FrozenSet<string> JsonSchemaFormatFields = FrozenSet.Create("type", "json_schema");
    private static readonly FrozenSet<string> JsonSchemaFields = FrozenSet.Create("name", "description", "schema", "strict");
    // include_obfuscation only pads stream events against length side channels; it cannot change the answer.
    private static readonly FrozenSet<string> StreamOptionsFields = FrozenSet.Create("include_usage", "include_obfuscation");

    public static (ChatRequest Request, bool Stream) Read(JsonElement root, ImageUrlPolicy images)
    {
        string? model = null;
        ImmutableArray<ChatMessage>? messages = null;
        double? temperature = null, topP = null, presencePenalty = null, frequencyPenalty = null;
        int? maxTokens = null;
        ImmutableArray<string> stop = [];
        long? seed = null;
        ResponseFormat? responseFormat = null;
        ImmutableArray<ToolDefinition> tools = [];
        ToolChoice? toolChoice = null;
        string? user = null;
        bool stream = false, includeUsage = false;
        bool? parallelToolCalls = null;

        foreach (var property in TopLevel.Properties(root))
        {
            var value = property.Value;
            switch (property.Name)
            {
                case "model": model = Fields.ReadString(value, "model"); break;
                case "messages": messages = ReadMessages(value, images); break;
                case "temperature": temperature = Fields.ReadNumber(value, "temperature", 0, 2); break;
                case "top_p": topP = Fields.ReadNumber(value, "top_p", 0, 1); break;
                case "presence_penalty": presencePenalty = Fields.ReadNumber(value, "presence_penalty", -2, 2); break;
                case "frequency_penalty": frequencyPenalty = Fields.ReadNumber(value, "frequency_penalty", -2, 2); break;
                case "max_tokens" or "max_completion_tokens":
                    if (value.ValueKind != JsonValueKind.Null)
                    {
                        maxTokens = Fields.ReadInt(value, property.Name, 1);
                    }

                    break;
                case "stop": stop = ReadStop(value); break;
                case "seed": seed = value.ValueKind == JsonValueKind.Null ? null : Fields.ReadLong(value, "seed"); break;
                case "response_format": responseFormat = Formats.Read(value, "response_format", ReadJsonSchemaFormat); break;
                case "tools": tools = Tools.ReadTools(value, ReadTool); break;
                case "tool_choice": toolChoice = ReadToolChoice(value); break;
                case "parallel_tool_calls": parallelToolCalls = Fields.ReadBool(value, "parallel_tool_calls"); break;
                case "user": user = value.ValueKind == JsonValueKind.Null ? null : Fields.ReadString(value, "user"); break;
                case "stream": stream = value.ValueKind != JsonValueKind.Null && Fields.ReadBool(value, "stream"); break;
                case "stream_options":
                    if (value.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null))
                    {
                        throw Fields.WrongType("stream_options", "an object", value);
                    }

                    if (value.ValueKind == JsonValueKind.Object)
                    {
                        Fields.EnsureKnown(value, "stream_options", StreamOptionsFields);
                    }

                    if (value.ValueKind == JsonValueKind.Object && value.TryGetProperty("include_usage", out var include))
                    {
                        includeUsage = Fields.ReadBool(include, "stream_options.include_usage");
                    }

                    break;
                case "n":
                    if (value.ValueKind != JsonValueKind.Null && Fields.ReadInt(value, "n", 1) != 1)
                    {
                        throw Invalid("Gatehouse supports only n = 1 (one choice per request).", "n");
                    }

                    break;
                case "logprobs":
                    if (value.ValueKind == JsonValueKind.True)
                    {
                        throw Invalid("Gatehouse does not support logprobs.", "logprobs");
                    }

                    break;
                case "functions" or "function_call":
                    throw Invalid($"'{property.Name}' is deprecated; use 'tools' and 'tool_choice'.", property.Name);
                case "modalities" when IsTextOnly(value):
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

        if (messages is not { Length: > 0 })
        {
            throw Invalid(messages is null ? "'messages' is a required property" : "'messages' must contain at least one message.", "messages");
        }

        if (!stream && root.TryGetProperty("stream_options", out var options) && options.ValueKind != JsonValueKind.Null)
        {
            throw Invalid("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options");
        }

        if (toolChoice is { Mode: ToolChoiceMode.Function } && !tools.Any(t => t.Name == toolChoice.FunctionName))
        {
            throw Invalid($"tool_choice names function '{toolChoice.FunctionName}', which is not in 'tools'.", "tool_choice");
        }

        var request = new ChatRequest
        {
            Model = model,
            Messages = messages.Value,
            Temperature = temperature,
            TopP = topP,
            MaxTokens = maxTokens,
            Stop = stop,
            Seed = seed,
            ResponseFormat = responseFormat,
            Tools = tools,
            ToolChoice = toolChoice,
            User = user,
            IncludeUsage = includeUsage,
            PresencePenalty = presencePenalty,
            FrequencyPenalty = frequencyPenalty,
            ParallelToolCalls = parallelToolCalls,
        };
        return (request, stream);
    }

    /// <summary><c>modalities: ["text"]</c> asks for what every answer is anyway.</summary>
    private static bool IsTextOnly(JsonElement value) =>
        value.ValueKind == JsonValueKind.Array && value.GetArrayLength() == 1 && value[0].ValueKind == JsonValueKind.String && value[0].ValueEquals("text");

    private static ImmutableArray<ChatMessage> ReadMessages(JsonElement value, ImageUrlPolicy images)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw Fields.WrongType("messages", "an array", value);
        }

        var messages = ImmutableArray.CreateBuilder<ChatMessage>(value.GetArrayLength());
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            messages.Add(ReadMessage(item, $"messages[{index++}]", images));
        }

        return messages.MoveToImmutable();
    }

    private static ChatMessage ReadMessage(JsonElement item, string path, ImageUrlPolicy images)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            throw Fields.WrongType(path, "an object", item);
        }

        Fields.EnsureKnown(item, path, MessageFields);
        // A refusal is part of the conversation the model must see; the canonical message has no place for it.
        if (item.TryGetProperty("refusal", out var refusal) && refusal.ValueKind != JsonValueKind.Null)
        {
            throw Invalid($"Gatehouse does not support '{path}.refusal'; send the refusal text as 'content'.", $"{path}.refusal");
        }

        if (!item.TryGetProperty("role", out var roleElement))
        {
            throw Fields.Required($"{path}.role");
        }

        var role = Fields.ReadString(roleElement, $"{path}.role") switch
        {
            "system" or "developer" => ChatRole.System,
            "user" => ChatRole.User,
            "assistant" => ChatRole.Assistant,
            "tool" => ChatRole.Tool,
            var other => throw Invalid($"Invalid value for '{path}.role': '{other}'. Supported values are: 'system', 'developer', 'user', 'assistant' and 'tool'.", $"{path}.role"),
        };

        ImmutableArray<ContentPart> content = [];
        if (item.TryGetProperty("content", out var contentElement))
        {
            content = ReadContent(contentElement, $"{path}.content", role, images);
        }

        ImmutableArray<ToolCall> toolCalls = [];
        if (item.TryGetProperty("tool_calls", out var callsElement) && callsElement.ValueKind != JsonValueKind.Null)
        {
            if (role != ChatRole.Assistant)
            {
                throw Invalid($"'{path}.tool_calls' is only allowed on assistant messages.", $"{path}.tool_calls");
            }

            toolCalls = ReadToolCalls(callsElement, $"{path}.tool_calls");
        }

        string? toolCallId = null;
        if (role == ChatRole.Tool)
        {
            if (!item.TryGetProperty("tool_call_id", out var idElement))
            {
                throw Invalid($"'{path}.tool_call_id' is a required property for tool messages.", $"{path}.tool_call_id");
            }

            toolCallId = Fields.ReadString(idElement, $"{path}.tool_call_id");
        }

        if (content.IsEmpty && toolCalls.IsEmpty)
        {
            throw Invalid(role == ChatRole.Assistant
                ? $"'{path}' must have 'content' or 'tool_calls'."
                : $"'{path}.content' is a required property", $"{path}.content");
        }

        var name = Fields.ReadOptionalString(item, "name", path);
        return new ChatMessage { Role = role, Content = content, ToolCalls = toolCalls, ToolCallId = toolCallId, Name = name };
    }

    private static ImmutableArray<ContentPart> ReadContent(JsonElement value, string path, ChatRole role, ImageUrlPolicy images)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Null:
                return [];
            case JsonValueKind.String:
                return [ContentPart.FromText(value.GetString()!)];
            case JsonValueKind.Array:
                var parts = ImmutableArray.CreateBuilder<ContentPart>();
                var index = 0;
                foreach (var part in value.EnumerateArray())
                {
                    parts.Add(ReadContentPart(part, $"{path}[{index++}]", role, images));
                }

                return parts.ToImmutable();
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

        switch (Fields.ReadString(typeElement, $"{path}.type"))
        {
            case "text":
                Fields.EnsureKnown(part, path, TextPartFields);
                return ContentPart.FromText(Fields.ReadRequiredString(part, "text", path));
            case "image_url" when role == ChatRole.User:
                Fields.EnsureKnown(part, path, ImagePartFields);
                if (!part.TryGetProperty("image_url", out var image))
                {
                    throw Fields.Required($"{path}.image_url");
                }

                if (image.ValueKind is not (JsonValueKind.Object or JsonValueKind.String))
                {
                    throw Fields.WrongType($"{path}.image_url", "an object", image);
                }

                if (image.ValueKind == JsonValueKind.Object)
                {
                    Fields.EnsureKnown(image, $"{path}.image_url", ImageUrlFields);
                }

                var (url, detail) = image.ValueKind == JsonValueKind.String
                    ? (image.GetString()!, null)
                    : (Fields.ReadRequiredString(image, "url", $"{path}.image_url"),
                       image.TryGetProperty("detail", out var detailElement) ? Fields.ReadString(detailElement, $"{path}.image_url.detail") : null);
                if (!images.IsAllowed(url))
                {
                    throw Invalid($"Invalid '{path}.image_url.url': it must be {images.Allowed}.", $"{path}.image_url.url");
                }

                return new ContentPart { Kind = ContentPartKind.ImageUrl, ImageUrl = url, ImageDetail = detail };
            case "image_url":
                throw Invalid($"Image content is only allowed in user messages ('{path}').", path);
            case var other:
                throw Invalid($"Content part type '{other}' is not supported by Gatehouse (supported: 'text', 'image_url').", $"{path}.type");
        }
    }

    private static ImmutableArray<ToolCall> ReadToolCalls(JsonElement value, string path)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw Fields.WrongType(path, "an array", value);
        }

        var calls = ImmutableArray.CreateBuilder<ToolCall>();
        var index = 0;
        foreach (var call in value.EnumerateArray())
        {
            var callPath = $"{path}[{index++}]";
            if (call.ValueKind != JsonValueKind.Object
                || !call.TryGetProperty("id", out var id)
                || !call.TryGetProperty("function", out var function)
                || function.ValueKind != JsonValueKind.Object
                || !function.TryGetProperty("name", out var name))
            {
                throw Invalid($"'{callPath}' must have an 'id' and a 'function' with a 'name'.", callPath);
            }

            Fields.EnsureKnown(call, callPath, ToolCallFields);
            Fields.EnsureKnown(function, $"{callPath}.function", ToolCallFunctionFields);

            var arguments = function.TryGetProperty("arguments", out var args) ? Fields.ReadString(args, $"{callPath}.function.arguments") : "{}";
            calls.Add(new ToolCall { Id = Fields.ReadString(id, $"{callPath}.id"), Name = Fields.ReadString(name, $"{callPath}.function.name"), ArgumentsJson = arguments });
        }

        return calls.ToImmutable();
    }

    /// <summary>A Chat Completions tool: <c>{"type":"function","function":{...}}</c>.</summary>
    private static ToolDefinition ReadTool(JsonElement tool, string path)
    {
        if (tool.ValueKind != JsonValueKind.Object
            || !tool.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != "function")
        {
            throw Invalid($"'{path}.type' must be 'function'.", $"{path}.type");
        }

        if (!tool.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object
            || !function.TryGetProperty("name", out _))
        {
            throw Fields.Required($"{path}.function.name");
        }

        Fields.EnsureKnown(tool, path, ToolFields);
        Fields.EnsureKnown(function, $"{path}.function", ToolFunctionFields);
        return Tools.ReadFunction(function, $"{path}.function");
    }

    private static ToolChoice? ReadToolChoice(JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Null:
                return null;
            case JsonValueKind.String:
                return OpenAIToolChoiceModes.Parse(value.GetString());
            case JsonValueKind.Object
                when value.TryGetProperty("function", out var function) && function.ValueKind == JsonValueKind.Object
                && function.TryGetProperty("name", out var name):
                Fields.EnsureKnown(value, "tool_choice", ToolChoiceFields);
                Fields.EnsureKnown(function, "tool_choice.function", ToolChoiceFunctionFields);
                return new ToolChoice { Mode = ToolChoiceMode.Function, FunctionName = Fields.ReadString(name, "tool_choice.function.name") };
            default:
                throw Invalid("'tool_choice' must be 'none', 'auto', 'required' or {\"type\":\"function\",\"function\":{\"name\":...}}.", "tool_choice");
        }
    }

    /// <summary>A <c>json_schema</c> response format: <c>{"type":"json_schema","json_schema":{...}}</c>.</summary>
    private static ResponseFormat ReadJsonSchemaFormat(JsonElement format, string path)
    {
        Fields.EnsureKnown(format, path, JsonSchemaFormatFields);
        if (!format.TryGetProperty("json_schema", out var schema) || schema.ValueKind != JsonValueKind.Object
            || !schema.TryGetProperty("name", out _))
        {
            throw Invalid("'response_format.json_schema.name' is a required property", "response_format.json_schema");
        }

        Formats.RefuseDescription(schema, $"{path}.json_schema");
        Fields.EnsureKnown(schema, $"{path}.json_schema", JsonSchemaFields);
        return Formats.ReadJsonSchema(schema, $"{path}.json_schema");
    }

    private static ImmutableArray<string> ReadStop(JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Null:
                return [];
            case JsonValueKind.String:
                return [value.GetString()!];
            case JsonValueKind.Array:
                var stops = ImmutableArray.CreateBuilder<string>();
                foreach (var item in value.EnumerateArray())
                {
                    stops.Add(Fields.ReadString(item, "stop"));
                }

                if (stops.Count > 4)
                {
                    throw Invalid("'stop' may hold at most 4 sequences.", "stop");
                }

                return stops.ToImmutable();
            default:
                throw Fields.WrongType("stop", "a string or an array of strings", value);
        }
    }

    private static GatewayException Invalid(string message, string? param) => JsonFieldReader.Invalid(message, param);
}
