namespace Gatehouse.Chat;

public enum ChatRole
{
    System = 0,
    User = 1,
    Assistant = 2,
    Tool = 3,
}
