using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Gatehouse.Ledger;

/// <summary>
/// The bodies of <c>GET /admin/usage</c>: <c>{"data":[row…]}</c> in JSON, or the same as CSV (<c>Accept: text/csv</c>).
/// Fields not grouped by are omitted from both.
/// </summary>
public static class UsageReportWriter
{
    public const string CsvContentType = "text/csv; charset=utf-8";

    /// <summary>Writes the JSON body to <paramref name="output"/>.</summary>
    public static void WriteJson(Stream output, IReadOnlyList<UsageRow> rows, UsageGrouping groupBy)
    {
        using var json = new Utf8JsonWriter(output);
        json.WriteStartObject();
        json.WriteStartArray("data");
        foreach (var row in rows)
        {
            json.WriteStartObject();
            if (groupBy.HasFlag(UsageGrouping.App))
            {
                json.WriteString("app", row.App);
            }

            if (groupBy.HasFlag(UsageGrouping.Alias))
            {
                json.WriteString("alias", row.Alias);
            }

            if (groupBy.HasFlag(UsageGrouping.Provider))
            {
                json.WriteString("provider", row.Provider);
            }

            if (groupBy.HasFlag(UsageGrouping.Day))
            {
                json.WriteString("day", row.Day?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            }

            json.WriteNumber("requests", row.Requests);
            json.WriteNumber("upstreamCalls", row.UpstreamCalls);
            json.WriteNumber("cacheHits", row.CacheHits);
            json.WriteNumber("promptTokens", row.PromptTokens);
            json.WriteNumber("completionTokens", row.CompletionTokens);
            json.WriteNumber("costUsd", UsdAmount.Normalised(row.CostUsd));
            json.WriteNumber("savedUsd", UsdAmount.Normalised(row.SavedUsd));
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>The CSV body: a header line, then one line per row (RFC 4180 quoting, CRLF line ends).</summary>
    public static string ToCsv(IReadOnlyList<UsageRow> rows, UsageGrouping groupBy)
    {
        var csv = new StringBuilder();
        var header = new List<string>();
        if (groupBy.HasFlag(UsageGrouping.App))
        {
            header.Add("app");
        }

        if (groupBy.HasFlag(UsageGrouping.Alias))
        {
            header.Add("alias");
        }

        if (groupBy.HasFlag(UsageGrouping.Provider))
        {
            header.Add("provider");
        }

        if (groupBy.HasFlag(UsageGrouping.Day))
        {
            header.Add("day");
        }

        header.AddRange(["requests", "upstreamCalls", "cacheHits", "promptTokens", "completionTokens", "costUsd", "savedUsd"]);
        csv.AppendJoin(',', header).Append("\r\n");
        foreach (var row in rows)
        {
            if (groupBy.HasFlag(UsageGrouping.App))
            {
                AppendField(csv, row.App).Append(',');
            }

            if (groupBy.HasFlag(UsageGrouping.Alias))
            {
                AppendField(csv, row.Alias).Append(',');
            }

            if (groupBy.HasFlag(UsageGrouping.Provider))
            {
                AppendField(csv, row.Provider).Append(',');
            }

            if (groupBy.HasFlag(UsageGrouping.Day))
            {
                csv.Append(row.Day?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).Append(',');
            }

            csv.Append(CultureInfo.InvariantCulture, $"{row.Requests},{row.UpstreamCalls},{row.CacheHits},{row.PromptTokens},{row.CompletionTokens},");
            csv.Append(UsdAmount.Normalised(row.CostUsd).ToString(CultureInfo.InvariantCulture)).Append(',').Append(UsdAmount.Normalised(row.SavedUsd).ToString(CultureInfo.InvariantCulture)).Append("\r\n");
        }

        return csv.ToString();
    }

    private static StringBuilder AppendField(StringBuilder csv, string? value)
    {
        if (value is null)
        {
            return csv;
        }

        // Quoted when needed; a leading formula character is neutralised so a spreadsheet does not run it.
        var text = value.Length > 0 && value[0] is '=' or '+' or '-' or '@' ? "'" + value : value;
        return text.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? csv.Append('"').Append(text.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"') : csv.Append(text);
    }
}
