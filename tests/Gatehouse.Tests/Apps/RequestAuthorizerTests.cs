using Gatehouse.Apps;
using Gatehouse.Configuration;
using Gatehouse.Errors;
using Gatehouse.Providers;
using Gatehouse.Providers.Simulated;
using Gatehouse.Routing;
using Gatehouse.Silo.Http;
using Gatehouse.Tests.Support;
using Xunit;

namespace Gatehouse.Tests.Apps;

public sealed class RequestAuthorizerTests : IDisposable
{
    private const string RestrictedKey = "restricted-key";
    private const string OpenKey = "open-key";

    private readonly AppRegistry _apps;
    private readonly RequestAuthorizer _authorizer;

    public RequestAuthorizerTests()
    {
        var sim = new ModelOptions { Targets = [new TargetOptions { Provider = "sim", Model = "sim-1" }] };
        var options = new GatehouseOptions
        {
            Providers = { ["sim"] = new ProviderOptions { Kind = ProviderKinds.Simulated, LatencyMs = 0 } },
            Models =
            {
                ["zeta"] = sim, ["gpt"] = sim, ["alpha"] = sim, ["beta"] = sim,
                ["embed"] = new ModelOptions { Type = ModelType.Embeddings, Targets = [new TargetOptions { Provider = "sim", Model = "sim-embed" }] },
            },
            Apps =
            {
                ["restricted"] = new AppOptions { Keys = [RestrictedKey], Models = ["zeta", "alpha"] },
                ["open"] = new AppOptions { Keys = [OpenKey] },
            },
        };
        _apps = new AppRegistry(new TestOptionsMonitor<GatehouseOptions>(options));
        var routes = new RouteTable(options, new ProviderRegistry([new SimulatedChatGatewayFactory(TimeProvider.System)]), new Random(1));
        _authorizer = new RequestAuthorizer(_apps, routes);
    }

    public void Dispose() => _apps.Dispose();

    [Fact]
    public void Authorize_EmbeddingsAliasOnAChatEndpoint_IsABadRequestNamingTheModel()
    {
        var exception = Assert.Throws<GatewayException>(() => _authorizer.Authorize(OpenKey, "embed"));

        Assert.Equal(GatewayError.InvalidRequest, exception.Error);
        Assert.Equal(400, GatewayErrorStatus.ToStatusCode(exception.Error));
        Assert.Equal("model", exception.Param);
        Assert.Equal("The model 'embed' is an embeddings model: it serves POST /v1/embeddings, not chat.", exception.Message);
    }

    [Fact]
    public void Authorize_ChatAliasForEmbeddings_IsABadRequestNamingTheModel()
    {
        var exception = Assert.Throws<GatewayException>(() => _authorizer.Authorize(OpenKey, "gpt", ModelType.Embeddings));

        Assert.Equal(GatewayError.InvalidRequest, exception.Error);
        Assert.Equal("model", exception.Param);
        Assert.Equal("The model 'gpt' is a chat model: it does not serve embeddings.", exception.Message);
    }

    [Fact]
    public void Authorize_EmbeddingsAliasForEmbeddings_ReturnsTheApp()
    {
        Assert.Equal("open", _authorizer.Authorize(OpenKey, "embed", ModelType.Embeddings).AppId);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Authorize_MissingKey_ThrowsUnauthenticated(string? key)
    {
        var exception = Assert.Throws<GatewayException>(() => _authorizer.Authorize(key, "gpt"));

        Assert.Equal(GatewayError.Unauthenticated, exception.Error);
        Assert.Equal(401, GatewayErrorStatus.ToStatusCode(exception.Error));
        Assert.StartsWith("Missing API key.", exception.Message);
    }

    [Fact]
    public void Authorize_UnknownKey_ThrowsUnauthenticated()
    {
        var exception = Assert.Throws<GatewayException>(() => _authorizer.Authorize("not-a-key", "gpt"));

        Assert.Equal(GatewayError.Unauthenticated, exception.Error);
        Assert.Equal("Incorrect API key provided.", exception.Message);
    }

    [Fact]
    public void Authorize_UnknownKeyAndUnknownAlias_ThrowsUnauthenticatedFirst()
    {
        var exception = Assert.Throws<GatewayException>(() => _authorizer.Authorize("not-a-key", "nope"));

        Assert.Equal(GatewayError.Unauthenticated, exception.Error);
    }

    [Theory]
    [InlineData(RestrictedKey)]
    [InlineData(OpenKey)]
    public void Authorize_UnknownAlias_ThrowsModelNotFound(string key)
    {
        var exception = Assert.Throws<GatewayException>(() => _authorizer.Authorize(key, "nope"));

        Assert.Equal(GatewayError.ModelNotFound, exception.Error);
        Assert.Equal("model", exception.Param);
        Assert.Equal("The model 'nope' does not exist.", exception.Message);
    }

    [Fact]
    public void Authorize_AliasNotInAppModels_ThrowsModelNotAllowed()
    {
        var exception = Assert.Throws<GatewayException>(() => _authorizer.Authorize(RestrictedKey, "gpt"));

        Assert.Equal(GatewayError.ModelNotAllowed, exception.Error);
        Assert.Equal("model", exception.Param);
        Assert.Equal(403, GatewayErrorStatus.ToStatusCode(exception.Error));
    }

    [Theory]
    [InlineData(RestrictedKey, "alpha", "restricted")]
    [InlineData(OpenKey, "gpt", "open")]
    [InlineData(OpenKey, "zeta", "open")]
    public void Authorize_AllowedAlias_ReturnsApp(string key, string alias, string appId)
    {
        Assert.Equal(appId, _authorizer.Authorize(key, alias).AppId);
    }

    [Fact]
    public void ModelsFor_AppWithModels_ListsOnlyAllowedAliasesSorted()
    {
        var app = _authorizer.Authenticate(RestrictedKey);

        Assert.Equal(["alpha", "zeta"], _authorizer.ModelsFor(app));
    }

    [Fact]
    public void ModelsFor_AppWithoutModels_ListsEveryAliasSorted()
    {
        var app = _authorizer.Authenticate(OpenKey);

        Assert.Equal(["alpha", "beta", "embed", "gpt", "zeta"], _authorizer.ModelsFor(app));
    }
}
