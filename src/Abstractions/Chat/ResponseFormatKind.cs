namespace Gatehouse.Chat;

public enum ResponseFormatKind
{
    Text = 0,
    JsonObject = 1,
    JsonSchema = 2,
}
