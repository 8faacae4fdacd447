namespace Gatehouse.Ledger;

/// <summary>The fields a usage query groups by (<c>groupBy=app|alias|provider|day</c>, several comma-separated); none: one total row.</summary>
[Flags]
public enum UsageGrouping
{
    None = 0,
    App = 1,
    Alias = 2,
    Provider = 4,
    /// <summary>The UTC day of the record's time.</summary>
    Day = 8,
}
