using System.Collections;
using System.Reflection;

namespace Gatehouse.Configuration;

/// <summary>
/// Checks every number and enum in a bound options tree against its declared range (see <see cref="AllowedValues"/>),
/// naming each failing setting by its full configuration key, the value it has and what it must be.
/// </summary>
internal static class OptionsRangeValidator
{
    public static void Collect(object options, string key, List<string> errors)
    {
        foreach (var property in OptionsSchema.OrderedSettings(options.GetType()))
        {
            var value = property.GetValue(options);
            var path = $"{key}:{property.Name}";
            switch (OptionsSchema.ShapeOf(property.PropertyType))
            {
                case OptionsSchema.Shape.Value:
                    CheckValue(property, value, path, errors);
                    break;
                case OptionsSchema.Shape.Section when value is not null:
                    Collect(value, path, errors);
                    break;
                case OptionsSchema.Shape.Dictionary when value is IDictionary entries:
                    foreach (DictionaryEntry entry in entries)
                    {
                        if (entry.Value is not null && OptionsSchema.ShapeOf(entry.Value.GetType()) == OptionsSchema.Shape.Section)
                        {
                            Collect(entry.Value, $"{path}:{entry.Key}", errors);
                        }
                    }

                    break;
                case OptionsSchema.Shape.List when value is IList items:
                    for (var i = 0; i < items.Count; i++)
                    {
                        if (items[i] is { } item && OptionsSchema.ShapeOf(item.GetType()) == OptionsSchema.Shape.Section)
                        {
                            Collect(item, $"{path}:{i}", errors);
                        }
                    }

                    break;
            }
        }
    }

    private static void CheckValue(PropertyInfo property, object? value, string path, List<string> errors)
    {
        switch (value)
        {
            case null or string or bool:
                return;
            case Enum when !Enum.IsDefined(value.GetType(), value):
                errors.Add($"{path} must be {AllowedValues.Describe(property, property.PropertyType)}; it is {AllowedValues.Format(value)}.");
                return;
            case Enum:
                return;
            default:
                if (!AllowedValues.IsAllowed(property, value))
                {
                    errors.Add($"{path} must be {AllowedValues.Describe(property, property.PropertyType)}; it is {AllowedValues.Format(value)}.");
                }

                return;
        }
    }
}
