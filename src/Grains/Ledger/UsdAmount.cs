namespace Gatehouse.Ledger;

/// <summary>USD amounts as the admin API shows them.</summary>
public static class UsdAmount
{
    /// <summary>Without trailing zeros (<c>5.6</c>, not <c>5.6000000000</c>): PostgreSQL's numeric sums and decimal arithmetic keep their scale.</summary>
    public static decimal Normalised(decimal value) => value / 1.0000000000000000000000000000m;
}
