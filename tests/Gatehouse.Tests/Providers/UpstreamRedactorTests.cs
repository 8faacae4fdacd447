using Gatehouse.Errors;
using Gatehouse.Providers;
using Xunit;

namespace Gatehouse.Tests.Providers;

public sealed class UpstreamRedactorTests
{
    private const string ConfiguredKey = "configured-FAKE-key-for-tests";
    private const string OtherConfiguredKey = "other-FAKE-key-for-tests";

    private static readonly UpstreamRedactor Redactor = new([ConfiguredKey, OtherConfiguredKey]);

    [Theory]
    [InlineData("Bad request; your header was 'Bearer sk-proj-FAKE-redactor-test'", "Bad request; your header was 'Bearer [REDACTED]'")]
    [InlineData("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig rejected", "Authorization: Bearer [REDACTED] rejected")]
    [InlineData("key sk-ant-FAKE-redactor-test is not allowed here", "key [REDACTED] is not allowed here")]
    [InlineData("Incorrect API key provided: sk-abc1****wxyz.", "Incorrect API key provided: [REDACTED]")]
    [InlineData("header x-api-key: k-0123456789 was sent twice", "header x-api-key: [REDACTED] was sent twice")]
    [InlineData("GET /v1/models?api_key=abcdef0123&x=1 failed", "GET /v1/models?api_key=[REDACTED]&x=1 failed")]
    [InlineData("""{"headers":{"authorization":"Basic dXNlcjpwYXNz"}}""", """{"headers":{"authorization":"Basic [REDACTED]"}}""")]
    [InlineData("authorization=opaque-token-42 denied", "authorization=[REDACTED] denied")]
    [InlineData("""{"X-Api-Key": "0123456789abcdef"}""", """{"X-Api-Key": "[REDACTED]"}""")]
    public void Redact_CredentialPatterns_AreMasked(string text, string expected)
    {
        Assert.Equal(expected, UpstreamRedactor.PatternsOnly.Redact(text));
    }

    [Theory]
    [InlineData("your key was '" + ConfiguredKey + "'", "your key was '[REDACTED]'")]
    [InlineData("keys " + OtherConfiguredKey + " and " + ConfiguredKey + " differ", "keys [REDACTED] and [REDACTED] differ")]
    [InlineData("token=" + ConfiguredKey, "token=[REDACTED]")]
    public void Redact_ConfiguredKeysByValue_AreMaskedWhateverTheirFormat(string text, string expected)
    {
        Assert.Equal(expected, Redactor.Redact(text));
    }

    [Theory]
    [InlineData("Invalid value for 'temperature': 3 is greater than the maximum of 2.")]
    [InlineData("messages.0.content.0.text: text content blocks must be non-empty")]
    [InlineData("This model's maximum context length is 128000 tokens. However, your messages resulted in 130512 tokens.")]
    [InlineData("prompt is too long: 210412 tokens > 200000 maximum")]
    [InlineData("the task-oriented desk-top is fine")]
    [InlineData("the bearer of bad news; Basic plan limits apply")]
    public void Redact_OrdinaryErrorText_IsUnchanged(string text)
    {
        Assert.Equal(text, Redactor.Redact(text));
    }

    [Fact]
    public void Redact_ShortConfiguredValue_IsNotMatchedByValue()
    {
        var redactor = new UpstreamRedactor(["abc"]);

        Assert.Equal("abc is a word in abcde", redactor.Redact("abc is a word in abcde"));
    }

    [Fact]
    public void Redact_LongText_IsCutAtTheCap()
    {
        var redacted = UpstreamRedactor.PatternsOnly.Redact(new string('a', 10_000));

        Assert.Equal(UpstreamRedactor.MaxTextChars + 1, redacted!.Length);
        Assert.EndsWith("…", redacted);
    }

    [Fact]
    public void ForProviders_ResolvesEnvironmentKeys()
    {
        const string variable = "GATEHOUSE_TEST_REDACTOR_KEY";
        Environment.SetEnvironmentVariable(variable, "from-env-0123456789");
        try
        {
            var redactor = UpstreamRedactor.ForProviders(
            [
                new ProviderOptions { Kind = ProviderKinds.OpenAI, ApiKey = "env:" + variable },
                new ProviderOptions { Kind = ProviderKinds.Anthropic, ApiKey = ConfiguredKey },
                new ProviderOptions { Kind = ProviderKinds.Ollama },
            ]);

            Assert.Equal("[REDACTED] / [REDACTED]", redactor.Redact("from-env-0123456789 / " + ConfiguredKey));
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Theory]
    [InlineData(400, """{"error":{"message":"Bad request; your header was 'Bearer sk-FAKE-quoted-in-400'","type":"invalid_request_error","param":null,"code":null}}""")]
    [InlineData(400, """{"error":{"message":"This model's maximum context length is 8192 tokens; key configured-FAKE-key-for-tests","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}""")]
    [InlineData(400, """{"type":"error","error":{"type":"invalid_request_error","message":"x-api-key: configured-FAKE-key-for-tests is not valid for this model"}}""")]
    [InlineData(422, """{"error":{"message":"bad param","type":"invalid_request_error","param":"Bearer sk-FAKE-in-param","code":null}}""")]
    public void FromHttpStatus_UpstreamQuotesAKey_MessageAndParamCarryNoKey(int status, string body)
    {
        var ex = UpstreamErrors.FromHttpStatus("up", status, body, redactor: Redactor);

        Assert.Contains(UpstreamRedactor.Mask, ex.Message + ex.Param);
        Assert.DoesNotContain("sk-", ex.Message + ex.Param);
        Assert.DoesNotContain(ConfiguredKey, ex.Message + ex.Param);
    }

    [Fact]
    public void FromStreamError_InStreamErrorQuotesAKey_MessageCarriesNoKey()
    {
        var ex = UpstreamErrors.FromStreamError(
            "up", """{"type":"error","error":{"type":"invalid_request_error","message":"header was 'Bearer configured-FAKE-key-for-tests'"}}""", Redactor);

        Assert.Equal(GatewayError.InvalidRequest, ex.Error);
        Assert.Equal("provider 'up' rejected the request (HTTP 400): header was 'Bearer [REDACTED]'", ex.Message);
    }
}
