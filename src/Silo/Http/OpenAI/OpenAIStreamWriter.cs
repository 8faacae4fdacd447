using System.Buffers;
using System.Text.Json;
using Gatehouse.Chat;
using Gatehouse.Errors;

namespace Gatehouse.Silo.Http.OpenAI;

/// <summary>OpenAI's SSE framing: <c>data: {chunk}</c> events, an error event on failure, <c>data: [DONE]</c> at the end.</summary>
internal sealed class OpenAIStreamWriter(IBufferWriter<byte> output) : IChatStreamWriter
{
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();
    private static readonly byte[] DoneEvent = "data: [DONE]\n\n"u8.ToArray();

    private readonly Utf8JsonWriter _writer = new(output, JsonWriting.Options);

    public void Write(ChatChunk chunk) => WriteEvent(chunk, static (writer, c) => OpenAIResponseWriter.WriteChunk(writer, c));

    public void WriteError(GatewayException error) => WriteEvent(error, static (writer, e) => ErrorResponses.WriteOpenAIError(writer, e));

    public void Complete() => output.Write(DoneEvent);

    public void Dispose() => _writer.Dispose();

    private void WriteEvent<T>(T value, Action<Utf8JsonWriter, T> write)
    {
        output.Write(DataPrefix);
        write(_writer, value);
        _writer.Flush();
        _writer.Reset();
        output.Write(EventEnd);
    }
}
