using System.Text;
using System.Text.Json;
using Gatehouse.Silo.Http;
using Xunit;

namespace Gatehouse.Tests.Http;

public sealed class JsonUnicodeCheckTests
{
    [Theory]
    [InlineData("""{"a":"plain"}""")]
    [InlineData("""{"a":"line\nbreak \"quoted\" back\\slash"}""")]
    [InlineData("""{"a":"\u00e9\u4e2d"}""")]
    [InlineData("""{"a":"pair \ud83d\ude00 and \uD83D\uDE00"}""")]
    [InlineData("""{"a":"\\ud800 is an escaped backslash, not an escape"}""")]
    [InlineData("""{"a":["x",{"b":"é 中 😀"}]}""")]
    public void Find_ValidText_FindsNothing(string json)
    {
        using var document = JsonDocument.Parse(json);

        Assert.Null(JsonUnicodeCheck.Find(document.RootElement, OpenAIIndex));
    }

    [Theory]
    [InlineData("""{"a":"\ud800"}""", "a")]
    [InlineData("""{"a":"x\udc00y"}""", "a")]
    [InlineData("""{"a":"\ud800\u0041"}""", "a")]
    [InlineData("""{"a":"\ud800x"}""", "a")]
    [InlineData("""{"a":"end\ud83d"}""", "a")]
    [InlineData("""{"messages":[{"role":"user"},{"content":"\ud800"}]}""", "messages[1].content")]
    [InlineData("""{"messages":[["ok","\udfff"]]}""", "messages[0][1]")]
    public void Find_LoneSurrogateEscape_NamesItsPath(string json, string path)
    {
        using var document = JsonDocument.Parse(json);

        Assert.Equal(new InvalidJsonString(path, IsPropertyName: false), JsonUnicodeCheck.Find(document.RootElement, OpenAIIndex));
    }

    [Fact]
    public void Find_InvalidUtf8Bytes_NamesTheValue()
    {
        using var document = JsonDocument.Parse(Bytes("{\"model\":\"sim\",\"messages\":[{\"role\":\"user\",\"content\":\"", [0xFF], "\"}]}"));

        Assert.Equal(new InvalidJsonString("messages[0].content", IsPropertyName: false), JsonUnicodeCheck.Find(document.RootElement, OpenAIIndex));
    }

    [Fact]
    public void Find_InvalidPropertyName_NamesTheObjectHoldingIt()
    {
        using var document = JsonDocument.Parse(Bytes("{\"messages\":[{\"role\":\"user\",\"", [0xC3, 0x28], "\":1}]}"));

        Assert.Equal(new InvalidJsonString("messages.0", IsPropertyName: true), JsonUnicodeCheck.Find(document.RootElement, (path, i) => $"{path}.{i}"));
    }

    [Fact]
    public void Find_EscapedLoneSurrogateInTopLevelName_HasEmptyPath()
    {
        using var document = JsonDocument.Parse("""{"\ud800":1}""");

        Assert.Equal(new InvalidJsonString("", IsPropertyName: true), JsonUnicodeCheck.Find(document.RootElement, OpenAIIndex));
    }

    private static string OpenAIIndex(string path, int index) => $"{path}[{index}]";

    private static byte[] Bytes(string before, byte[] raw, string after) => [.. Encoding.UTF8.GetBytes(before), .. raw, .. Encoding.UTF8.GetBytes(after)];
}
