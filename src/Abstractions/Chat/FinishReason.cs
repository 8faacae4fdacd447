namespace Gatehouse.Chat;

public enum FinishReason
{
    Stop = 0,
    Length = 1,
    ToolCalls = 2,
    ContentFilter = 3,
}
