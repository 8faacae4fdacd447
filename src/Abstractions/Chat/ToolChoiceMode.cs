namespace Gatehouse.Chat;

public enum ToolChoiceMode
{
    Auto = 0,
    None = 1,
    Required = 2,
    Function = 3,
}
