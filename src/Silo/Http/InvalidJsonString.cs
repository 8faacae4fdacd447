namespace Gatehouse.Silo.Http;

/// <summary>Where a request body holds a JSON string that is not Unicode text: a value, or the name of a property.</summary>
/// <param name="Path">The path of the string value, or of the object whose property name is broken ("" for the body itself).</param>
internal readonly record struct InvalidJsonString(string Path, bool IsPropertyName);
