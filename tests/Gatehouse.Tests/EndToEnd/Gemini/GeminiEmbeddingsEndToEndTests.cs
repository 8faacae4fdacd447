using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Doubles;
using OpenAI.Embeddings;

namespace Gatehouse.Tests.EndToEnd.Gemini;

/// <summary>
/// <c>POST /v1/embeddings</c> on the real silo, called by the official OpenAI SDK's <see cref="EmbeddingClient"/> and by
/// plain HTTP, answered by the Gemini double's <c>embedContent</c> and <c>batchEmbedContents</c>.
/// </summary>
[Collection(GeminiCollection.Name)]
public sealed class GeminiEmbeddingsEndToEndTests(GeminiFixture fixture)
{
    private const int DoubleDimensions = 8;
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Inputs unique to the test, so that no test is answered from another's cache entries.</summary>
    private static string Text(string what, [CallerMemberName] string test = "") => $"{test}: {what}";

    private static float[] Expected(string input, int dimensions = DoubleDimensions) =>
        GeminiUpstreamDouble.EmbeddingFor(GeminiFixture.EmbeddingModel, input, dimensions);

    [Fact]
    public async Task Sdk_OneString_IsOneEmbedContentCall_WithTheDoublesVector()
    {
        using var timeout = new CancellationTokenSource(CallTimeout);
        var input = Text("a cat on a mat");

        var result = await fixture.OpenAIEmbeddings(GeminiFixture.EmbeddingAlias).GenerateEmbeddingAsync(input, cancellationToken: timeout.Token);

        Assert.Equal(Expected(input), result.Value.ToFloats().ToArray());
        var sent = fixture.Gemini.EmbedRequests.Last(r => r.Body.Contains(input, StringComparison.Ordinal));
        Assert.Equal($"/v1beta/models/{GeminiFixture.EmbeddingModel}:embedContent", sent.Path);
        Assert.Equal(GeminiFixture.GeminiProviderKey, sent.Header("x-goog-api-key"));
        Assert.Null(sent.Header("authorization"));
    }

    [Fact]
    public async Task Sdk_ArrayOfStrings_IsOneBatchEmbedContentsCall_VectorsInOrder()
    {
        using var timeout = new CancellationTokenSource(CallTimeout);
        string[] inputs = [Text("first"), Text("second"), Text("third")];

        var result = await fixture.OpenAIEmbeddings(GeminiFixture.EmbeddingAlias).GenerateEmbeddingsAsync(inputs, cancellationToken: timeout.Token);

        Assert.Equal(3, result.Value.Count);
        for (var i = 0; i < inputs.Length; i++)
        {
            Assert.Equal(i, result.Value[i].Index);
            Assert.Equal(Expected(inputs[i]), result.Value[i].ToFloats().ToArray());
        }

        var sent = fixture.Gemini.EmbedRequests.Last(r => r.Body.Contains(inputs[0], StringComparison.Ordinal));
        Assert.Equal($"/v1beta/models/{GeminiFixture.EmbeddingModel}:batchEmbedContents", sent.Path);
        Assert.Equal(inputs, sent.Json!["requests"]!.AsArray().Select(r => r!["content"]!["parts"]![0]!["text"]!.GetValue<string>()).ToArray());
    }

    [Fact]
    public async Task Sdk_Dimensions_AreOutputDimensionality()
    {
        using var timeout = new CancellationTokenSource(CallTimeout);
        var input = Text("short vector");

        var result = await fixture.OpenAIEmbeddings(GeminiFixture.EmbeddingAlias).GenerateEmbeddingAsync(
            input, new EmbeddingGenerationOptions { Dimensions = 4 }, timeout.Token);

        Assert.Equal(Expected(input, 4), result.Value.ToFloats().ToArray());
        var sent = fixture.Gemini.EmbedRequests.Last(r => r.Body.Contains(input, StringComparison.Ordinal));
        Assert.Equal(4, sent.Json!["outputDimensionality"]!.GetValue<int>());
    }

    [Fact]
    public async Task Http_SecondIdenticalRequest_ServedFromTheGatewayCache_GeminiCalledOnce()
    {
        string[] inputs = [Text("asked"), Text("twice")];
        var before = fixture.Gemini.EmbedRequestCount;

        using var first = await PostAsync(new JsonObject { ["model"] = GeminiFixture.EmbeddingAlias, ["input"] = new JsonArray(inputs[0], inputs[1]) });
        using var second = await PostAsync(new JsonObject { ["model"] = GeminiFixture.EmbeddingAlias, ["input"] = new JsonArray(inputs[0], inputs[1]) });

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(1, fixture.Gemini.EmbedRequestCount - before);
        Assert.Equal("miss", first.Headers.GetValues("x-gatehouse-cache").Single());
        Assert.Equal("hit", second.Headers.GetValues("x-gatehouse-cache").Single());
        var firstBody = await ReadAsync(first);
        var secondBody = await ReadAsync(second);
        Assert.Equal(firstBody["data"]!.ToJsonString(), secondBody["data"]!.ToJsonString());
        Assert.Equal(Expected(inputs[1]), secondBody["data"]![1]!["embedding"]!.AsArray().Select(v => v!.GetValue<float>()).ToArray());

        // Gemini reports no tokens for embeddings, and the adapter estimates none.
        Assert.Equal(0, firstBody["usage"]!["prompt_tokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task Sdk_SecondIdenticalRequest_AnsweredWithoutCallingGemini()
    {
        using var timeout = new CancellationTokenSource(CallTimeout);
        var input = Text("sdk asked twice");
        var client = fixture.OpenAIEmbeddings(GeminiFixture.EmbeddingAlias);
        var first = await client.GenerateEmbeddingAsync(input, cancellationToken: timeout.Token);
        var before = fixture.Gemini.EmbedRequestCount;

        var second = await client.GenerateEmbeddingAsync(input, cancellationToken: timeout.Token);

        Assert.Equal(before, fixture.Gemini.EmbedRequestCount);
        Assert.Equal(first.Value.ToFloats().ToArray(), second.Value.ToFloats().ToArray());
        Assert.Equal("hit", second.GetRawResponse().Headers.TryGetValue("x-gatehouse-cache", out var cache) ? cache : null);
    }

    private Task<HttpResponseMessage> PostAsync(JsonObject body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/embeddings") { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", GeminiFixture.AppKey);
        return SendAsync(request);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request)
    {
        using var http = new HttpClient { BaseAddress = new Uri(fixture.Silo.BaseUrl), Timeout = CallTimeout };
        using (request)
        {
            var response = await http.SendAsync(request);
            await response.Content.LoadIntoBufferAsync();
            return response;
        }
    }

    private static async Task<JsonNode> ReadAsync(HttpResponseMessage response) => JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
}
