using System.ClientModel;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Doubles;
using OpenAI.Embeddings;

namespace Gatehouse.Tests.EndToEnd.Embeddings;

/// <summary><c>POST /v1/embeddings</c> on a real silo, called by the official OpenAI .NET SDK and by plain HTTP.</summary>
[Collection(EmbeddingsCollection.Name)]
public sealed class EmbeddingsEndToEndTests(EmbeddingsFixture fixture)
{
    private const int DoubleDimensions = 8;

    /// <summary>Inputs unique to the test, so that no test is answered from another's cache entries.</summary>
    private static string Text(string what, [CallerMemberName] string test = "") => $"{test}: {what}";

    private static float[] Expected(string model, string input, int dimensions = DoubleDimensions) =>
        OpenAIUpstreamDouble.EmbeddingFor(model, input, dimensions);

    [Fact]
    public async Task Sdk_OneString_ReturnsTheUpstreamsVectorAndUsage()
    {
        var input = Text("a cat on a mat");

        var result = await fixture.Client("embed").GenerateEmbeddingAsync(input);

        Assert.Equal(Expected("text-embedding-3-small", input), result.Value.ToFloats().ToArray());
        var sent = fixture.OpenAI.EmbeddingRequests.Last(r => r.Body.Contains(input, StringComparison.Ordinal));
        Assert.Equal("text-embedding-3-small", sent.Model);
        Assert.Equal("Bearer sk-FAKE-embeddings-openai", sent.Headers["Authorization"]);
    }

    [Fact]
    public async Task Sdk_ArrayOfStrings_VectorsInOrderWithTheUpstreamsModelAndTokens()
    {
        string[] inputs = [Text("first"), Text("second"), Text("third")];

        var result = await fixture.Client("embed").GenerateEmbeddingsAsync(inputs);

        Assert.Equal(3, result.Value.Count);
        for (var i = 0; i < inputs.Length; i++)
        {
            Assert.Equal(i, result.Value[i].Index);
            Assert.Equal(Expected("text-embedding-3-small", inputs[i]), result.Value[i].ToFloats().ToArray());
        }

        Assert.Equal("text-embedding-3-small", result.Value.Model);
        Assert.Equal(fixture.OpenAI.PromptTokens, result.Value.Usage.InputTokenCount);
    }

    [Fact]
    public async Task Sdk_Dimensions_PassedToTheUpstream()
    {
        var input = Text("short vector");

        var result = await fixture.Client("embed").GenerateEmbeddingAsync(input, new EmbeddingGenerationOptions { Dimensions = 4 });

        Assert.Equal(Expected("text-embedding-3-small", input, 4), result.Value.ToFloats().ToArray());
        var sent = fixture.OpenAI.EmbeddingRequests.Last(r => r.Body.Contains(input, StringComparison.Ordinal));
        Assert.Equal(4, sent.Json!["dimensions"]!.GetValue<int>());
    }

    [Fact]
    public async Task Http_FloatAndBase64_CarryTheSameVector()
    {
        var input = Text("both encodings");

        using var asFloats = await PostAsync(new JsonObject { ["model"] = "embed", ["input"] = input, ["encoding_format"] = "float" });
        using var asBase64 = await PostAsync(new JsonObject { ["model"] = "embed", ["input"] = input, ["encoding_format"] = "base64" });

        var floats = (await ReadAsync(asFloats))["data"]![0]!["embedding"]!.AsArray().Select(v => v!.GetValue<float>()).ToArray();
        var bytes = Convert.FromBase64String((await ReadAsync(asBase64))["data"]![0]!["embedding"]!.GetValue<string>());
        var decoded = Enumerable.Range(0, bytes.Length / 4).Select(i => BitConverter.ToSingle(bytes, i * 4)).ToArray();
        Assert.Equal(Expected("text-embedding-3-small", input), floats);
        Assert.Equal(floats, decoded);
    }

    [Fact]
    public async Task Http_SecondIdenticalRequest_ServedFromTheCache_UpstreamCalledOnce()
    {
        var input = Text("asked twice");
        var before = fixture.OpenAI.EmbeddingRequestCount;

        using var first = await PostAsync(new JsonObject { ["model"] = "embed", ["input"] = new JsonArray(input) });
        using var second = await PostAsync(new JsonObject { ["model"] = "embed", ["input"] = new JsonArray(input) });

        Assert.Equal(1, fixture.OpenAI.EmbeddingRequestCount - before);
        Assert.Equal("miss", first.Headers.GetValues("x-gatehouse-cache").Single());
        Assert.Equal("hit", second.Headers.GetValues("x-gatehouse-cache").Single());
        var firstBody = await ReadAsync(first);
        var secondBody = await ReadAsync(second);
        Assert.Equal(firstBody["data"]!.ToJsonString(), secondBody["data"]!.ToJsonString());
        Assert.Equal(fixture.OpenAI.PromptTokens, firstBody["usage"]!["prompt_tokens"]!.GetValue<int>());
        Assert.Equal(0, secondBody["usage"]!["prompt_tokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task Http_PartlyCachedArray_OnlyTheNewInputGoesUpstream()
    {
        string[] inputs = [Text("a"), Text("b"), Text("c")];
        using var warm = await PostAsync(new JsonObject { ["model"] = "embed", ["input"] = new JsonArray(inputs[0], inputs[1]) });
        var before = fixture.OpenAI.EmbeddingRequestCount;

        var result = await fixture.Client("embed").GenerateEmbeddingsAsync([inputs[1], inputs[2], inputs[0]]);

        Assert.Equal(1, fixture.OpenAI.EmbeddingRequestCount - before);
        var sent = fixture.OpenAI.EmbeddingRequests.Last();
        Assert.Equal([inputs[2]], sent.Json!["input"]!.AsArray().Select(i => i!.GetValue<string>()).ToArray());
        Assert.Equal([.. new[] { inputs[1], inputs[2], inputs[0] }.Select(i => Expected("text-embedding-3-small", i))], result.Value.Select(e => e.ToFloats().ToArray()).ToArray());
    }

    [Fact]
    public async Task Http_AppWithATokenQuota_TheAnswerCarriesItsRateLimitHeaders()
    {
        using var response = await PostAsync(new JsonObject { ["model"] = "embed", ["input"] = Text("counted") });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(EmbeddingsFixture.TokensPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture), response.Headers.GetValues("x-ratelimit-limit-tokens").Single());
        Assert.InRange(int.Parse(response.Headers.GetValues("x-ratelimit-remaining-tokens").Single(), System.Globalization.CultureInfo.InvariantCulture), 0, EmbeddingsFixture.TokensPerMinute - 1);
    }

    [Fact]
    public async Task Http_TargetFailsWith500_FallbackAliasAnswers()
    {
        var input = Text("via the fallback");

        using var response = await PostAsync(new JsonObject { ["model"] = "embed-flaky", ["input"] = input });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("openai", response.Headers.GetValues("x-gatehouse-provider").Single());
        Assert.Equal("2", response.Headers.GetValues("x-gatehouse-attempts").Single());
        var body = await ReadAsync(response);
        Assert.Equal("text-embedding-3-large", body["model"]!.GetValue<string>());
        Assert.Equal(Expected("text-embedding-3-large", input), body["data"]![0]!["embedding"]!.AsArray().Select(v => v!.GetValue<float>()).ToArray());
    }

    [Fact]
    public async Task Sdk_OllamaTarget_AnswersThroughApiEmbed()
    {
        var input = Text("local model");

        var result = await fixture.Client("embed-local").GenerateEmbeddingAsync(input);

        Assert.Equal(Expected("nomic-embed-text", input), result.Value.ToFloats().ToArray());
        Assert.Contains(fixture.Ollama.EmbedRequests, r => r.Body.Contains(input, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Sdk_SimulatedTarget_DeterministicUnitVectors()
    {
        var client = fixture.Client("embed-sim");

        var first = (await client.GenerateEmbeddingAsync(Text("same"))).Value.ToFloats().ToArray();
        var again = (await client.GenerateEmbeddingAsync(Text("same"))).Value.ToFloats().ToArray();
        var other = (await client.GenerateEmbeddingAsync(Text("different"))).Value.ToFloats().ToArray();

        Assert.Equal(256, first.Length);
        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        Assert.Equal(1.0, Math.Sqrt(first.Sum(v => (double)v * v)), 4);
    }

    public static TheoryData<string, string, HttpStatusCode, string, string?> Refusals => new()
    {
        { EmbeddingsFixture.AppKey, """{"model":"gpt","input":"x"}""", HttpStatusCode.BadRequest, "invalid_request_error", "model" },
        { EmbeddingsFixture.AppKey, """{"model":"nope","input":"x"}""", HttpStatusCode.NotFound, "invalid_request_error", "model" },
        { EmbeddingsFixture.ChatOnlyKey, """{"model":"embed","input":"x"}""", HttpStatusCode.Forbidden, "permission_error", "model" },
        { "gk-FAKE-unknown", """{"model":"embed","input":"x"}""", HttpStatusCode.Unauthorized, "invalid_request_error", null },
        { EmbeddingsFixture.AppKey, """{"model":"embed","input":[1,2,3]}""", HttpStatusCode.BadRequest, "invalid_request_error", "input[0]" },
        { EmbeddingsFixture.AppKey, """{"model":"embed","input":[]}""", HttpStatusCode.BadRequest, "invalid_request_error", "input" },
        { EmbeddingsFixture.AppKey, """{"model":"embed","input":"x","encoding_format":"int8"}""", HttpStatusCode.BadRequest, "invalid_request_error", "encoding_format" },
        { EmbeddingsFixture.AppKey, """{"model":"embed","input":"x","dimensions":-1}""", HttpStatusCode.BadRequest, "invalid_request_error", "dimensions" },
        { EmbeddingsFixture.AppKey, """{"model":"embed","input":"x","extra":1}""", HttpStatusCode.BadRequest, "invalid_request_error", "extra" },
        { EmbeddingsFixture.AppKey, """{"model":"embed","input":""", HttpStatusCode.BadRequest, "invalid_request_error", null },
        { EmbeddingsFixture.AppKey, "[]", HttpStatusCode.BadRequest, "invalid_request_error", null },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task Http_BadRequestOrWrongAlias_ClearErrorInOpenAIsEnvelope(string key, string body, HttpStatusCode status, string type, string? param)
    {
        var before = fixture.OpenAI.EmbeddingRequestCount;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/embeddings") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);

        using var response = await fixture.Http.SendAsync(request);

        Assert.Equal(status, response.StatusCode);
        var error = (await ReadAsync(response))["error"]!;
        Assert.Equal(type, error["type"]!.GetValue<string>());
        Assert.Equal(param, error["param"]?.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(error["message"]!.GetValue<string>()));
        Assert.Equal(before, fixture.OpenAI.EmbeddingRequestCount);
    }

    [Fact]
    public async Task Http_EmbeddingsAliasOnChatCompletions_Is400NamingTheModel()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"embed","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", EmbeddingsFixture.AppKey);

        using var response = await fixture.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await ReadAsync(response))["error"]!;
        Assert.Equal("model", error["param"]!.GetValue<string>());
        Assert.Equal("The model 'embed' is an embeddings model: it serves POST /v1/embeddings, not chat.", error["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Sdk_ChatAliasOnEmbeddings_ClientResultExceptionWith400()
    {
        var error = await Assert.ThrowsAsync<ClientResultException>(() => fixture.Client("gpt").GenerateEmbeddingAsync("x"));

        Assert.Equal(400, error.Status);
        Assert.Contains("The model 'gpt' is a chat model: it does not serve embeddings.", error.Message, StringComparison.Ordinal);
    }

    private Task<HttpResponseMessage> PostAsync(JsonObject body, string key = EmbeddingsFixture.AppKey)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/embeddings") { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        return fixture.Http.SendAsync(request);
    }

    private static async Task<JsonNode> ReadAsync(HttpResponseMessage response) => JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
}
