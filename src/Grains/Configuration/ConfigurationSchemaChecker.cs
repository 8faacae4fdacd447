using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace Gatehouse.Configuration;

/// <summary>
/// Walks a configuration section alongside its options type before it is bound, and reports every value the binder
/// would fail on or silently drop: a number that does not convert, an enum name that is not defined, a key that is not
/// a setting, a list or section where a single value belongs and the reverse.
/// </summary>
/// <remarks>
/// The binder throws on a bad top-level value, but swallows any failure inside a dictionary entry or list item and
/// drops the whole entry: an app with <c>TokensPerMinute: "abc"</c> would vanish and its key get 401. Values are
/// converted here exactly as the binder converts them (the type's <see cref="TypeConverter"/>, invariant culture).
/// Values are quoted only for number, bool and enum settings; a string setting (such as a key) is never echoed.
/// </remarks>
internal sealed class ConfigurationSchemaChecker
{
    private const int MaxQuotedLength = 64;

    private readonly List<string> _errors = [];
    private readonly List<string> _rejectedPaths = [];
    private readonly IReadOnlySet<string> _ignoredKeys;

    private ConfigurationSchemaChecker(IReadOnlySet<string> ignoredKeys) => _ignoredKeys = ignoredKeys;

    /// <param name="section">The section as the binder would be given it.</param>
    /// <param name="optionsType">The options class the section binds to.</param>
    /// <param name="ignoredKeys">Child keys of <paramref name="section"/> that belong to someone else and are not checked.</param>
    public static ConfigurationCheck Check(IConfigurationSection section, Type optionsType, IReadOnlySet<string>? ignoredKeys = null)
    {
        var checker = new ConfigurationSchemaChecker(ignoredKeys ?? new HashSet<string>());
        checker.CheckSettings(section, optionsType, isRoot: true);
        return new ConfigurationCheck(checker._errors, checker._rejectedPaths);
    }

    private void CheckSettings(IConfiguration section, Type type, bool isRoot = false)
    {
        var settings = OptionsSchema.Settings(type);
        foreach (var child in section.GetChildren())
        {
            if (isRoot && _ignoredKeys.Contains(child.Key))
            {
                continue;
            }

            if (!settings.TryGetValue(child.Key, out var property))
            {
                Reject(child, $"{child.Path} is not a known setting{Suggestion(child.Key, settings.Keys)}.");
                continue;
            }

            CheckNode(child, property.PropertyType, property);
        }
    }

    private void CheckNode(IConfigurationSection node, Type type, PropertyInfo? property, bool isItem = false)
    {
        var hasChildren = node.GetChildren().Any();
        switch (OptionsSchema.ShapeOf(type))
        {
            case OptionsSchema.Shape.Value:
                CheckValue(node, type, property, hasChildren, isItem);
                break;
            case OptionsSchema.Shape.Section when hasChildren:
                CheckSettings(node, type);
                break;
            case OptionsSchema.Shape.Section when isItem:
                Reject(node, $"{node.Path} has no settings; give them or remove the entry.");
                break;
            case OptionsSchema.Shape.Section:
                RejectIfValue(node, "must be a section of settings, not a single value");
                break;
            case OptionsSchema.Shape.Dictionary when hasChildren:
                foreach (var entry in node.GetChildren())
                {
                    CheckNode(entry, OptionsSchema.ElementType(type), property: null, isItem: true);
                }

                break;
            case OptionsSchema.Shape.Dictionary:
                RejectIfValue(node, "must be a section of named entries, not a single value");
                break;
            case OptionsSchema.Shape.List when hasChildren:
                foreach (var item in node.GetChildren())
                {
                    CheckNode(item, OptionsSchema.ElementType(type), property: null, isItem: true);
                }

                break;
            case OptionsSchema.Shape.List:
                RejectIfValue(node, "must be a list, not a single value");
                break;
        }
    }

    private void CheckValue(IConfigurationSection node, Type type, PropertyInfo? property, bool hasChildren, bool isItem)
    {
        var allowed = AllowedValues.Describe(property?.GetCustomAttribute<RangeAttribute>(), type);
        if (hasChildren)
        {
            Reject(node, type == typeof(string)
                ? $"{node.Path} must be a single value, not a section."
                : $"{node.Path} must be a single value ({allowed}), not a section.");
            return;
        }

        var nullable = Nullable.GetUnderlyingType(type);
        if (node.Value is null)
        {
            // JSON null: the binder sets a number to 0 and drops a list item (shifting the items after it).
            if (isItem || (type.IsValueType && nullable is null))
            {
                Reject(node, type == typeof(string)
                    ? $"{node.Path} has no value; give one or remove it."
                    : $"{node.Path} has no value; give {allowed} or leave it out.");
            }

            return;
        }

        var underlying = nullable ?? type;
        if (underlying == typeof(string) || (nullable is not null && node.Value.Length == 0))
        {
            return;
        }

        if (!Converts(underlying, node.Value))
        {
            Reject(node, $"{node.Path} {Quote(node.Value)} is not {allowed}.");
        }
    }

    private static bool Converts(Type type, string value)
    {
        if (type.IsEnum)
        {
            // The binder also takes numbers and comma-joined names; a setting is one named value.
            return Enum.GetNames(type).Contains(value.Trim(), StringComparer.OrdinalIgnoreCase);
        }

        object? converted;
        try
        {
            converted = TypeDescriptor.GetConverter(type).ConvertFromInvariantString(value);
        }
        catch (Exception)
        {
            // The binder turns any converter exception into a failure too.
            return false;
        }

        return converted switch
        {
            double d => double.IsFinite(d),
            float f => float.IsFinite(f),
            null => false,
            _ => true,
        };
    }

    private void RejectIfValue(IConfigurationSection node, string problem)
    {
        if (!string.IsNullOrEmpty(node.Value))
        {
            Reject(node, $"{node.Path} {problem}.");
        }
    }

    private void Reject(IConfigurationSection node, string error)
    {
        _errors.Add(error);
        _rejectedPaths.Add(node.Path);
    }

    /// <summary>The value in quotes, shortened, with control characters escaped so a failure stays on one line.</summary>
    private static string Quote(string value)
    {
        var shown = value.Length <= MaxQuotedLength ? value : value[..MaxQuotedLength];
        var escaped = string.Concat(shown.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
        return shown.Length == value.Length ? $"'{escaped}'" : $"'{escaped}…'";
    }

    private static string Suggestion(string key, IEnumerable<string> known)
    {
        var closest = known
            .Select(name => (Name: name, Distance: EditDistance(key.ToUpperInvariant(), name.ToUpperInvariant())))
            .Where(c => c.Distance <= 2)
            .OrderBy(c => c.Distance)
            .FirstOrDefault();
        return closest.Name is { } name ? $" (did you mean {name}?)" : $" (the settings here are {string.Join(", ", known.Order(StringComparer.Ordinal))})";
    }

    private static int EditDistance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1], previous[j]) + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            previous = current;
        }

        return previous[b.Length];
    }
}
