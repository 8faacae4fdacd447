namespace Gatehouse.Silo.Http.FrameworkErrors;

/// <summary>Puts the vendor's error envelope on every error the framework makes, on every route and method.</summary>
internal static class FrameworkErrorsExtensions
{
    /// <summary>
    /// Adds <see cref="FrameworkErrorMiddleware"/> in front of the whole pipeline (errors routing decides on) and
    /// <see cref="RejectedRequestEnvelopes"/> to every Kestrel endpoint (requests Kestrel rejects before the app).
    /// </summary>
    public static WebApplicationBuilder AddFrameworkErrorEnvelopes(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IStartupFilter, FrameworkErrorStartupFilter>();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureEndpointDefaults(endpoint => endpoint.Use(RejectedRequestEnvelopes.Wrap)));
        return builder;
    }

    /// <summary>A startup filter runs its middleware before the routing the web application adds by itself.</summary>
    private sealed class FrameworkErrorStartupFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.UseMiddleware<FrameworkErrorMiddleware>();
            next(app);
        };
    }
}
