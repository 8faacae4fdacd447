using System.Collections.Concurrent;
using System.Reflection;

namespace Gatehouse.Configuration;

/// <summary>
/// The settings of an options type as the configuration binder sees them: which keys a section may hold and how each
/// is bound. The raw-configuration check reads the schema from here, so a setting added to an options class is checked
/// without being listed anywhere else.
/// </summary>
internal static class OptionsSchema
{
    /// <summary>How the binder fills a type from a configuration node.</summary>
    public enum Shape
    {
        /// <summary>A string, number, bool or enum, converted from the node's value.</summary>
        Value,
        /// <summary>An options class, filled from the node's children by property name.</summary>
        Section,
        /// <summary>A <see cref="Dictionary{TKey, TValue}"/> with string keys: one entry per child.</summary>
        Dictionary,
        /// <summary>A <see cref="List{T}"/>: one item per child.</summary>
        List,
    }

    private static readonly ConcurrentDictionary<Type, IReadOnlyDictionary<string, PropertyInfo>> Cache = new();

    public static Shape ShapeOf(Type type)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (underlying == typeof(string) || underlying.IsPrimitive || underlying.IsEnum || underlying == typeof(decimal))
        {
            return Shape.Value;
        }

        if (underlying.IsGenericType && underlying.GetGenericTypeDefinition() == typeof(Dictionary<,>))
        {
            return Shape.Dictionary;
        }

        return underlying.IsGenericType && underlying.GetGenericTypeDefinition() == typeof(List<>) ? Shape.List : Shape.Section;
    }

    /// <summary>The item type of a <see cref="Shape.List"/> or the value type of a <see cref="Shape.Dictionary"/>.</summary>
    public static Type ElementType(Type type) => type.GetGenericArguments()[^1];

    /// <summary>The settings of an options class by name, matched without regard to case as configuration keys are.</summary>
    public static IReadOnlyDictionary<string, PropertyInfo> Settings(Type type) => Cache.GetOrAdd(type, static t =>
        t.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            // The binder fills a get-only section, list or dictionary in place; a get-only value it cannot set.
            .Where(p => p.GetMethod is { IsPublic: true } && p.GetIndexParameters().Length == 0
                && (p.SetMethod is { IsPublic: true } || ShapeOf(p.PropertyType) != Shape.Value))
            .ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase));
}
