using System.Globalization;
using Gatehouse.Errors;
using Gatehouse.Ledger;

namespace Gatehouse.Silo.Http.Admin;

/// <summary>
/// <c>GET /admin/usage?app=&amp;alias=&amp;from=&amp;to=&amp;groupBy=</c>: the usage ledger selected and grouped, as JSON or,
/// with <c>Accept: text/csv</c>, as CSV. <c>from</c> is inclusive, <c>to</c> exclusive; each is an ISO 8601 date
/// (<c>2026-12-01</c>, midnight UTC) or time (<c>2026-12-01T10:00:00Z</c>).
/// </summary>
internal static class AdminUsageEndpoints
{
    private static readonly string[] Parameters = ["app", "alias", "from", "to", "groupBy"];

    public static void Map(RouteGroupBuilder admin) => admin.MapGet("/usage", QueryAsync);

    private static async Task<IResult> QueryAsync(HttpContext context, IUsageQuery usage, CancellationToken cancellationToken)
    {
        var query = context.Request.Query;
        if (query.Keys.FirstOrDefault(k => !Parameters.Contains(k, StringComparer.Ordinal)) is { } unknown)
        {
            return Invalid($"Unknown query parameter '{unknown}': expected app, alias, from, to or groupBy.", unknown);
        }

        if (!UsageFilter.TryParseGroupBy(query["groupBy"], out var groupBy, out var groupByError))
        {
            return Invalid($"The groupBy parameter is invalid: {groupByError}.", "groupBy");
        }

        if (!TryParseTime(query["from"], out var from))
        {
            return Invalid($"The from parameter '{query["from"]}' is not an ISO 8601 date or time.", "from");
        }

        if (!TryParseTime(query["to"], out var to))
        {
            return Invalid($"The to parameter '{query["to"]}' is not an ISO 8601 date or time.", "to");
        }

        var filter = new UsageFilter
        {
            App = NullIfEmpty(query["app"]),
            Alias = NullIfEmpty(query["alias"]),
            From = from,
            To = to,
            GroupBy = groupBy,
        };
        var rows = await usage.QueryAsync(filter, cancellationToken);
        var csv = context.Request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals("text/csv", StringComparison.OrdinalIgnoreCase));
        return csv
            ? Results.Text(UsageReportWriter.ToCsv(rows, groupBy), UsageReportWriter.CsvContentType)
            : new JsonRows(rows, groupBy);
    }

    private static IResult Invalid(string message, string param) =>
        AdminResults.Error(new GatewayException(GatewayError.InvalidRequest, message, param));

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static bool TryParseTime(string? value, out DateTimeOffset? time)
    {
        time = null;
        if (string.IsNullOrEmpty(value))
        {
            return true;
        }

        if (DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            time = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            return true;
        }

        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
        {
            time = parsed;
            return true;
        }

        return false;
    }

    private sealed class JsonRows(IReadOnlyList<UsageRow> rows, UsageGrouping groupBy) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = StatusCodes.Status200OK;
            httpContext.Response.ContentType = "application/json";
            using var buffer = new MemoryStream();
            UsageReportWriter.WriteJson(buffer, rows, groupBy);
            buffer.Position = 0;
            await buffer.CopyToAsync(httpContext.Response.Body, httpContext.RequestAborted);
        }
    }
}
