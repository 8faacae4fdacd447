namespace Gatehouse.Chat;

public enum ContentPartKind
{
    Text = 0,
    ImageUrl = 1,
}
