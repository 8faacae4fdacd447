using Gatehouse.Chat;

namespace Gatehouse.Silo.Http.OpenAI;

/// <summary>The string forms of OpenAI's <c>tool_choice</c>, the same in Chat Completions and the Responses API.</summary>
internal static class OpenAIToolChoiceModes
{
    /// <exception cref="Errors.GatewayException">Any other string: an invalid request naming <c>tool_choice</c>.</exception>
    public static ToolChoice Parse(string? value) => value switch
    {
        "auto" => new ToolChoice { Mode = ToolChoiceMode.Auto },
        "none" => new ToolChoice { Mode = ToolChoiceMode.None },
        "required" => new ToolChoice { Mode = ToolChoiceMode.Required },
        var other => throw JsonFieldReader.Invalid(
            $"Invalid value for 'tool_choice': '{other}'. Supported values are: 'none', 'auto' and 'required'.", "tool_choice"),
    };
}
