using Gatehouse.Errors;
using Gatehouse.Routing;

namespace Gatehouse.Apps;

/// <summary>Decides whether a key may call a model alias: 401 before 404 before 403, as the vendors do.</summary>
public sealed class RequestAuthorizer(AppRegistry apps, RouteTable routes)
{
    public AppIdentity Authenticate(string? presentedKey) =>
        apps.Authenticate(presentedKey) ?? throw new GatewayException(
            GatewayError.Unauthenticated,
            string.IsNullOrEmpty(presentedKey)
                ? "Missing API key. Send your Gatehouse app key as 'Authorization: Bearer <key>' or 'x-api-key: <key>'."
                : "Incorrect API key provided.");

    /// <summary>Returns the app owning the key if it may use the alias; throws a <see cref="GatewayException"/> otherwise.</summary>
    public AppIdentity Authorize(string? presentedKey, string alias, ModelType endpoint = ModelType.Chat)
    {
        var app = Authenticate(presentedKey);
        EnsureMayUse(app, alias, endpoint);
        return app;
    }

    /// <summary>Throws unless the alias exists, the app may use it, and it serves <paramref name="endpoint"/>.</summary>
    public void EnsureMayUse(AppIdentity app, string alias, ModelType endpoint = ModelType.Chat)
    {
        if (routes.Find(alias) is not { } resolved)
        {
            throw new GatewayException(GatewayError.ModelNotFound, $"The model '{alias}' does not exist.", "model");
        }

        if (!app.MayUse(alias))
        {
            throw new GatewayException(GatewayError.ModelNotAllowed, $"This app is not allowed to use the model '{alias}'.", "model");
        }

        if (resolved.Type != endpoint)
        {
            throw new GatewayException(GatewayError.InvalidRequest, resolved.Type == ModelType.Embeddings
                ? $"The model '{alias}' is an embeddings model: it serves POST /v1/embeddings, not chat."
                : $"The model '{alias}' is a chat model: it does not serve embeddings.", "model");
        }
    }

    /// <summary>The aliases the app may use, sorted.</summary>
    public IReadOnlyList<string> ModelsFor(AppIdentity app) => [.. routes.Aliases.Where(app.MayUse)];
}
