using System.Text.Json;
using Gatehouse.Apps;

namespace Gatehouse.Silo.Http.Admin;

/// <summary>Writes apps and keys as the admin API shows them: the config names in camelCase, keys by id and prefix only.</summary>
internal static class AdminJsonWriter
{
    public static void WriteApp(Utf8JsonWriter writer, AppRecord app)
    {
        var s = app.Settings;
        writer.WriteStartObject();
        writer.WriteString("id"u8, app.Id);
        writer.WriteStartArray("models"u8);
        foreach (var model in s.Models)
        {
            writer.WriteStringValue(model);
        }

        writer.WriteEndArray();
        WriteNumber(writer, "requestsPerMinute", s.RequestsPerMinute);
        WriteNumber(writer, "tokensPerMinute", s.TokensPerMinute);
        WriteNumber(writer, "burst", s.Burst);
        writer.WriteString("priority"u8, s.Priority.ToString());
        if (s.CacheNamespace is null)
        {
            writer.WriteNull("cacheNamespace"u8);
        }
        else
        {
            writer.WriteString("cacheNamespace"u8, s.CacheNamespace);
        }

        writer.WriteBoolean("cacheAllRequests"u8, s.CacheAllRequests);
        WriteNumber(writer, "budgetUsdPerDay", s.BudgetUsdPerDay);
        WriteNumber(writer, "budgetUsdPerMonth", s.BudgetUsdPerMonth);
        WriteNumber(writer, "defaultMaxTokensEstimate", s.DefaultMaxTokensEstimate);
        writer.WriteString("source"u8, app.FromConfig ? "config" : "api");
        writer.WriteNumber("keyCount"u8, app.Keys.Length);
        writer.WriteString("createdAt"u8, app.CreatedAt);
        writer.WriteEndObject();
    }

    public static void WriteApps(Utf8JsonWriter writer, IEnumerable<AppRecord> apps) => WriteData(writer, apps, WriteApp);

    /// <summary>A key as listed: never the key, never its hash.</summary>
    public static void WriteKey(Utf8JsonWriter writer, AppKey key, string? plainKey = null)
    {
        writer.WriteStartObject();
        writer.WriteString("id"u8, key.Id);
        if (plainKey is not null)
        {
            writer.WriteString("key"u8, plainKey);
        }

        if (key.Prefix is null)
        {
            writer.WriteNull("prefix"u8);
        }
        else
        {
            writer.WriteString("prefix"u8, key.Prefix);
        }

        if (key.Name is null)
        {
            writer.WriteNull("name"u8);
        }
        else
        {
            writer.WriteString("name"u8, key.Name);
        }

        writer.WriteString("createdAt"u8, key.CreatedAt);
        writer.WriteEndObject();
    }

    public static void WriteKeys(Utf8JsonWriter writer, IEnumerable<AppKey> keys) => WriteData(writer, keys, static (w, key) => WriteKey(w, key));

    /// <summary>A listing: <c>{"data":[item…]}</c>.</summary>
    private static void WriteData<T>(Utf8JsonWriter writer, IEnumerable<T> items, Action<Utf8JsonWriter, T> writeItem)
    {
        writer.WriteStartObject();
        writer.WriteStartArray("data"u8);
        foreach (var item in items)
        {
            writeItem(writer, item);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteNumber(Utf8JsonWriter writer, string name, double? value)
    {
        if (value is { } number)
        {
            writer.WriteNumber(name, number);
        }
        else
        {
            writer.WriteNull(name);
        }
    }

    private static void WriteNumber(Utf8JsonWriter writer, string name, int? value)
    {
        if (value is { } number)
        {
            writer.WriteNumber(name, number);
        }
        else
        {
            writer.WriteNull(name);
        }
    }
}
