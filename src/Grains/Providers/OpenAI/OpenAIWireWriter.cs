using System.Buffers.Text;
using System.Collections.Immutable;
using System.Text.Json;
using Gatehouse.Chat;
using Gatehouse.Errors;

namespace Gatehouse.Providers.OpenAI;

/// <summary>
/// Writes a canonical <see cref="ChatRequest"/> as an OpenAI Chat Completions request body, straight into a pooled
/// buffer with <see cref="Utf8JsonWriter"/>: the body handed to the SDK's protocol method, with no SDK model objects
/// in between.
/// </summary>
internal static class OpenAIWireWriter
{
    private const string DataUriPrefix = "data:";
    private const string Base64Marker = ";base64,";

    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true };

    /// <summary>The request body, in a pooled buffer the caller disposes once the upstream has answered.</summary>
    /// <param name="request">The canonical request; its <see cref="ChatRequest.Model"/> is the upstream model.</param>
    /// <param name="stream">Ask for a stream (with <c>stream_options.include_usage</c>: the router always needs usage).</param>
    /// <param name="legacyMaxTokens">
    /// Send the limit as <c>max_tokens</c> instead of <c>max_completion_tokens</c>: OpenAI deprecated <c>max_tokens</c>
    /// (its reasoning models reject it), but many OpenAI-compatible servers only understand it.
    /// </param>
    /// <exception cref="GatewayException">The request cannot be expressed on the wire (<see cref="GatewayError.InvalidRequest"/>).</exception>
    public static PooledBinaryContent CreateContent(ChatRequest request, bool stream, bool legacyMaxTokens)
    {
        ArgumentNullException.ThrowIfNull(request);
        var content = new PooledBinaryContent();
        try
        {
            using var writer = new Utf8JsonWriter(content, WriterOptions);
            WriteRequest(writer, request, stream, legacyMaxTokens);
            writer.Flush();
            return content;
        }
        catch
        {
            content.Dispose();
            throw;
        }
    }

    /// <summary>Writes the request body; see <see cref="CreateContent"/>.</summary>
    public static void WriteRequest(Utf8JsonWriter writer, ChatRequest request, bool stream, bool legacyMaxTokens)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(request);
        writer.WriteStartObject();
        writer.WriteString("model"u8, request.Model);

        writer.WriteStartArray("messages"u8);
        foreach (var message in request.Messages)
        {
            WriteMessage(writer, message);
        }

        writer.WriteEndArray();

        if (request.Temperature is { } temperature)
        {
            writer.WriteNumber("temperature"u8, temperature);
        }

        if (request.TopP is { } topP)
        {
            writer.WriteNumber("top_p"u8, topP);
        }

        if (request.MaxTokens is { } maxTokens)
        {
            writer.WriteNumber(legacyMaxTokens ? "max_tokens"u8 : "max_completion_tokens"u8, maxTokens);
        }

        if (!request.Stop.IsDefaultOrEmpty)
        {
            writer.WriteStartArray("stop"u8);
            foreach (var stop in request.Stop)
            {
                writer.WriteStringValue(stop);
            }

            writer.WriteEndArray();
        }

        if (request.Seed is { } seed)
        {
            writer.WriteNumber("seed"u8, seed);
        }

        if (request.PresencePenalty is { } presencePenalty)
        {
            writer.WriteNumber("presence_penalty"u8, presencePenalty);
        }

        if (request.FrequencyPenalty is { } frequencyPenalty)
        {
            writer.WriteNumber("frequency_penalty"u8, frequencyPenalty);
        }

        if (request.User is { } user)
        {
            writer.WriteString("user"u8, user);
        }

        if (request.ResponseFormat is { } format)
        {
            WriteResponseFormat(writer, format);
        }

        if (!request.Tools.IsDefaultOrEmpty)
        {
            writer.WriteStartArray("tools"u8);
            foreach (var tool in request.Tools)
            {
                WriteTool(writer, tool);
            }

            writer.WriteEndArray();

            // parallel_tool_calls is only valid alongside tools; OpenAI rejects it otherwise.
            if (request.ParallelToolCalls is { } parallel)
            {
                writer.WriteBoolean("parallel_tool_calls"u8, parallel);
            }
        }

        if (request.ToolChoice is { } choice)
        {
            WriteToolChoice(writer, choice);
        }

        if (stream)
        {
            writer.WriteBoolean("stream"u8, true);
            writer.WriteStartObject("stream_options"u8);
            writer.WriteBoolean("include_usage"u8, true);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }

    private static void WriteMessage(Utf8JsonWriter writer, ChatMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        writer.WriteStartObject();
        switch (message.Role)
        {
            case ChatRole.System:
                writer.WriteString("role"u8, "system"u8);
                WriteContent(writer, message.Content);
                WriteName(writer, message.Name);
                break;

            case ChatRole.User:
                writer.WriteString("role"u8, "user"u8);
                WriteContent(writer, message.Content);
                WriteName(writer, message.Name);
                break;

            case ChatRole.Assistant:
                writer.WriteString("role"u8, "assistant"u8);
                if (message.ToolCalls.IsDefaultOrEmpty)
                {
                    WriteContent(writer, message.Content);
                }
                else
                {
                    // An assistant that called tools may also have said something.
                    var text = message.Content.IsDefaultOrEmpty ? string.Empty : message.Text;
                    if (text.Length > 0)
                    {
                        writer.WriteString("content"u8, text);
                    }

                    writer.WriteStartArray("tool_calls"u8);
                    foreach (var call in message.ToolCalls)
                    {
                        writer.WriteStartObject();
                        writer.WriteString("id"u8, call.Id);
                        writer.WriteString("type"u8, "function"u8);
                        writer.WriteStartObject("function"u8);
                        writer.WriteString("name"u8, call.Name);
                        writer.WriteString("arguments"u8, string.IsNullOrEmpty(call.ArgumentsJson) ? "{}" : call.ArgumentsJson);
                        writer.WriteEndObject();
                        writer.WriteEndObject();
                    }

                    writer.WriteEndArray();
                }

                WriteName(writer, message.Name);
                break;

            case ChatRole.Tool:
                if (string.IsNullOrEmpty(message.ToolCallId))
                {
                    throw new GatewayException(GatewayError.InvalidRequest, "a tool message needs the id of the tool call it answers", "messages");
                }

                writer.WriteString("role"u8, "tool"u8);
                writer.WriteString("tool_call_id"u8, message.ToolCallId);
                writer.WriteString("content"u8, message.Text);
                break;

            default:
                throw new GatewayException(GatewayError.InvalidRequest, $"unknown message role '{message.Role}'", "messages");
        }

        writer.WriteEndObject();
    }

    private static void WriteName(Utf8JsonWriter writer, string? name)
    {
        if (!string.IsNullOrEmpty(name))
        {
            writer.WriteString("name"u8, name);
        }
    }

    /// <summary>A single text part as a plain string (what every server understands), anything else as parts.</summary>
    private static void WriteContent(Utf8JsonWriter writer, ImmutableArray<ContentPart> content)
    {
        if (content.IsDefaultOrEmpty)
        {
            writer.WriteString("content"u8, string.Empty);
            return;
        }

        if (content.Length == 1 && content[0].Kind == ContentPartKind.Text)
        {
            writer.WriteString("content"u8, content[0].Text ?? string.Empty);
            return;
        }

        writer.WriteStartArray("content"u8);
        foreach (var part in content)
        {
            writer.WriteStartObject();
            switch (part.Kind)
            {
                case ContentPartKind.Text:
                    writer.WriteString("type"u8, "text"u8);
                    writer.WriteString("text"u8, part.Text ?? string.Empty);
                    break;
                case ContentPartKind.ImageUrl:
                    writer.WriteString("type"u8, "image_url"u8);
                    writer.WriteStartObject("image_url"u8);
                    WriteImageUrl(writer, part.ImageUrl);
                    if (!string.IsNullOrEmpty(part.ImageDetail))
                    {
                        writer.WriteString("detail"u8, part.ImageDetail);
                    }

                    writer.WriteEndObject();
                    break;
                default:
                    throw new GatewayException(GatewayError.InvalidRequest, $"unknown content part '{part.Kind}'", "messages");
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private static void WriteImageUrl(Utf8JsonWriter writer, string? url)
    {
        if (string.IsNullOrEmpty(url))
        {
            throw new GatewayException(GatewayError.InvalidRequest, "an image part has no url", "messages");
        }

        if (url.StartsWith(DataUriPrefix, StringComparison.OrdinalIgnoreCase))
        {
            // The base64 is checked here so that a broken image is the caller's 400, not the upstream's.
            var marker = url.IndexOf(Base64Marker, StringComparison.OrdinalIgnoreCase);
            if (marker < 0)
            {
                throw new GatewayException(GatewayError.InvalidRequest, "an image data: URI must be base64-encoded", "messages");
            }

            var data = url.AsSpan(marker + Base64Marker.Length);
            if (!Base64.IsValid(data))
            {
                throw new GatewayException(GatewayError.InvalidRequest, "an image data: URI is not valid base64", "messages");
            }

            if (marker == DataUriPrefix.Length)
            {
                // No media type: name the generic one rather than send a URI some servers refuse.
                writer.WriteString("url"u8, string.Concat("data:application/octet-stream", url.AsSpan(marker)));
                return;
            }

            writer.WriteString("url"u8, url);
            return;
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out _))
        {
            throw new GatewayException(GatewayError.InvalidRequest, "an image url is not an absolute URI", "messages");
        }

        writer.WriteString("url"u8, url);
    }

    private static void WriteTool(Utf8JsonWriter writer, ToolDefinition tool)
    {
        writer.WriteStartObject();
        writer.WriteString("type"u8, "function"u8);
        writer.WriteStartObject("function"u8);
        writer.WriteString("name"u8, tool.Name);
        if (tool.Description is { } description)
        {
            writer.WriteString("description"u8, description);
        }

        if (tool.ParametersJson is { Length: > 0 } parameters)
        {
            writer.WritePropertyName("parameters"u8);
            WriteRawJson(writer, parameters, "tools");
        }

        if (tool.Strict is { } strict)
        {
            writer.WriteBoolean("strict"u8, strict);
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static void WriteToolChoice(Utf8JsonWriter writer, ToolChoice choice)
    {
        switch (choice.Mode)
        {
            case ToolChoiceMode.Auto:
                writer.WriteString("tool_choice"u8, "auto"u8);
                break;
            case ToolChoiceMode.None:
                writer.WriteString("tool_choice"u8, "none"u8);
                break;
            case ToolChoiceMode.Required:
                writer.WriteString("tool_choice"u8, "required"u8);
                break;
            case ToolChoiceMode.Function when !string.IsNullOrEmpty(choice.FunctionName):
                writer.WriteStartObject("tool_choice"u8);
                writer.WriteString("type"u8, "function"u8);
                writer.WriteStartObject("function"u8);
                writer.WriteString("name"u8, choice.FunctionName);
                writer.WriteEndObject();
                writer.WriteEndObject();
                break;
            case ToolChoiceMode.Function:
                throw new GatewayException(GatewayError.InvalidRequest, "tool_choice names no function", "tool_choice");
            default:
                throw new GatewayException(GatewayError.InvalidRequest, $"unknown tool_choice '{choice.Mode}'", "tool_choice");
        }
    }

    private static void WriteResponseFormat(Utf8JsonWriter writer, ResponseFormat format)
    {
        writer.WriteStartObject("response_format"u8);
        switch (format.Kind)
        {
            case ResponseFormatKind.Text:
                writer.WriteString("type"u8, "text"u8);
                break;
            case ResponseFormatKind.JsonObject:
                writer.WriteString("type"u8, "json_object"u8);
                break;
            case ResponseFormatKind.JsonSchema:
                writer.WriteString("type"u8, "json_schema"u8);
                writer.WriteStartObject("json_schema"u8);
                writer.WriteString("name"u8, format.SchemaName ?? "response");
                writer.WritePropertyName("schema"u8);
                WriteRawJson(writer, format.SchemaJson ?? "{}", "response_format");
                if (format.Strict is { } strict)
                {
                    writer.WriteBoolean("strict"u8, strict);
                }

                writer.WriteEndObject();
                break;
            default:
                throw new GatewayException(GatewayError.InvalidRequest, $"unknown response format '{format.Kind}'", "response_format");
        }

        writer.WriteEndObject();
    }

    /// <summary>A caller's JSON schema, verbatim; validated, since the writer itself skips validation.</summary>
    private static void WriteRawJson(Utf8JsonWriter writer, string json, string param)
    {
        try
        {
            writer.WriteRawValue(json, skipInputValidation: false);
        }
        catch (JsonException)
        {
            throw new GatewayException(GatewayError.InvalidRequest, $"{param} holds a JSON schema that is not valid JSON", param);
        }
    }
}
