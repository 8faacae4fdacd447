using System.Collections.Frozen;
using System.Text.Json;
using Gatehouse.Apps;
using Gatehouse.Configuration;
using Gatehouse.Grains;
using Gatehouse.Silo.Http.OpenAI;

namespace Gatehouse.Silo.Http.Admin;

/// <summary>
/// Reads the admin API's app bodies strictly: every field is a config name in camelCase, and a field that is unknown,
/// wrongly typed or out of range is a 400 naming it (as the OpenAI front end words it).
/// </summary>
internal static class AdminAppReader
{
    /// <summary>At most this long, and only letters, digits, '-', '_' and '.': an id appears in URLs, metrics and grain keys.</summary>
    public const int MaxIdLength = 64;

    private static readonly JsonFieldReader Fields = new(OpenAIRequestReader.Wording with { Unrecognized = path => $"Unrecognized field: {path}" });

    private static readonly FrozenSet<string> SettingFields = FrozenSet.Create(
        "models", "requestsPerMinute", "tokensPerMinute", "burst", "priority", "cacheNamespace", "cacheAllRequests",
        "budgetUsdPerDay", "budgetUsdPerMonth", "defaultMaxTokensEstimate");

    private static readonly FrozenSet<string> CreateFields = FrozenSet.Create([.. SettingFields, "id"]);

    private static readonly FrozenSet<string> KeyFields = FrozenSet.Create("name");

    /// <summary>The body of <c>POST /admin/apps</c>: the new app's id and settings.</summary>
    public static (string Id, AppSettings Settings) ReadCreate(JsonElement body, Func<string, bool> isAlias)
    {
        EnsureObject(body, CreateFields);
        if (!body.TryGetProperty("id", out var idValue))
        {
            throw JsonFieldReader.Invalid("Missing required field: id", "id");
        }

        var id = Fields.ReadString(idValue, "id");
        if (id.Length is 0 or > MaxIdLength || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw JsonFieldReader.Invalid($"Invalid 'id': it must be 1 to {MaxIdLength} letters, digits, '-', '_' or '.'.", "id");
        }

        return (id, Apply(new AppSettings(), body, isAlias));
    }

    /// <summary>The body of <c>PATCH /admin/apps/{id}</c>: the fields it names replace those of <paramref name="current"/>; null clears a limit.</summary>
    public static AppSettings ReadPatch(JsonElement body, AppSettings current, Func<string, bool> isAlias)
    {
        EnsureObject(body, SettingFields);
        return Apply(current, body, isAlias);
    }

    /// <summary>The optional body of <c>POST /admin/apps/{id}/keys</c>: the key's name.</summary>
    public static string? ReadKeyName(JsonElement? body)
    {
        if (body is not { } value)
        {
            return null;
        }

        EnsureObject(value, KeyFields);
        return value.TryGetProperty("name", out var name) && name.ValueKind != JsonValueKind.Null ? Fields.ReadString(name, "name") : null;
    }

    private static void EnsureObject(JsonElement body, IReadOnlySet<string> known)
    {
        Fields.EnsureText(body);
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw Fields.WrongType("body", "an object", body);
        }

        Fields.EnsureKnown(body, "", known);
    }

    private static AppSettings Apply(AppSettings settings, JsonElement body, Func<string, bool> isAlias)
    {
        foreach (var property in body.EnumerateObject())
        {
            var value = property.Value;
            settings = property.Name switch
            {
                "models" => settings with { Models = ReadModels(value, isAlias) },
                "requestsPerMinute" => settings with { RequestsPerMinute = ReadLimit(value, "requestsPerMinute", SettingBounds.MaxRequestsPerMinute) },
                "tokensPerMinute" => settings with { TokensPerMinute = ReadLimit(value, "tokensPerMinute", SettingBounds.MaxTokensPerMinute) },
                "burst" => settings with { Burst = ReadLimit(value, "burst", SettingBounds.MaxRequestsPerMinute) },
                "priority" => settings with { Priority = ReadPriority(value) },
                "cacheNamespace" => settings with { CacheNamespace = value.ValueKind == JsonValueKind.Null ? null : Fields.ReadString(value, "cacheNamespace") },
                "cacheAllRequests" => settings with { CacheAllRequests = Fields.ReadBool(value, "cacheAllRequests") },
                "budgetUsdPerDay" => settings with { BudgetUsdPerDay = Fields.ReadNumber(value, "budgetUsdPerDay", 0, SettingBounds.MaxBudgetUsdPerDay) },
                "budgetUsdPerMonth" => settings with { BudgetUsdPerMonth = Fields.ReadNumber(value, "budgetUsdPerMonth", 0, SettingBounds.MaxBudgetUsdPerMonth) },
                "defaultMaxTokensEstimate" => settings with { DefaultMaxTokensEstimate = ReadLimit(value, "defaultMaxTokensEstimate", SettingBounds.MaxTokensEstimate) },
                _ => settings,
            };
        }

        if (settings.Burst is { } burst && (settings.RequestsPerMinute is not { } limit || burst > limit))
        {
            throw JsonFieldReader.Invalid("Invalid 'burst': it needs requestsPerMinute and must be between 1 and requestsPerMinute.", "burst");
        }

        if (settings.CacheNamespace is { Length: 0 })
        {
            throw JsonFieldReader.Invalid("Invalid 'cacheNamespace': it must not be empty (null means the app's own namespace).", "cacheNamespace");
        }

        return settings;
    }

    private static int? ReadLimit(JsonElement value, string path, int max)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        var number = Fields.ReadInt(value, path, 1);
        return number <= max ? number : throw JsonFieldReader.Invalid($"Invalid '{path}': {number} is out of range; it must be between 1 and {max}.", path);
    }

    private static RequestPriority ReadPriority(JsonElement value)
    {
        var text = Fields.ReadString(value, "priority");
        return Enum.TryParse<RequestPriority>(text, ignoreCase: true, out var priority) && Enum.IsDefined(priority) && !text.Any(char.IsAsciiDigit)
            ? priority
            : throw JsonFieldReader.Invalid($"Invalid 'priority': '{text}'; it must be one of High, Normal, Low.", "priority");
    }

    private static System.Collections.Immutable.ImmutableArray<string> ReadModels(JsonElement value, Func<string, bool> isAlias)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw Fields.WrongType("models", "an array of strings", value);
        }

        var models = System.Collections.Immutable.ImmutableArray.CreateBuilder<string>();
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            var path = $"models[{index++}]";
            var alias = Fields.ReadString(item, path);
            if (!isAlias(alias))
            {
                throw JsonFieldReader.Invalid($"Invalid '{path}': the model '{alias}' does not exist.", path);
            }

            if (!models.Contains(alias))
            {
                models.Add(alias);
            }
        }

        return models.ToImmutable();
    }
}
