using System.Text;
using Gatehouse.Ledger;

namespace Gatehouse.Tests.Ledger;

public sealed class UsageReportWriterTests
{
    private static readonly UsageRow[] Rows =
    [
        new("a", "gpt", null, new DateOnly(2026, 3, 1), 3, 2, 1, 22, 14, 0.0125m, 0.00625m),
        new("b,c", "gpt", null, new DateOnly(2026, 3, 2), 1, 1, 0, 11, 7, 0m, 0m),
    ];

    [Fact]
    public void WriteJson_HasOnlyTheGroupedFieldsAndEveryFigure()
    {
        using var output = new MemoryStream();

        UsageReportWriter.WriteJson(output, Rows, UsageGrouping.App | UsageGrouping.Day);

        Assert.Equal(
            """{"data":[{"app":"a","day":"2026-03-01","requests":3,"upstreamCalls":2,"cacheHits":1,"promptTokens":22,"completionTokens":14,"costUsd":0.0125,"savedUsd":0.00625},"""
            + """{"app":"b,c","day":"2026-03-02","requests":1,"upstreamCalls":1,"cacheHits":0,"promptTokens":11,"completionTokens":7,"costUsd":0,"savedUsd":0}]}""",
            Encoding.UTF8.GetString(output.ToArray()));
    }

    [Fact]
    public void WriteJson_NoRows_IsAnEmptyDataArray()
    {
        using var output = new MemoryStream();

        UsageReportWriter.WriteJson(output, [], UsageGrouping.None);

        Assert.Equal("""{"data":[]}""", Encoding.UTF8.GetString(output.ToArray()));
    }

    [Fact]
    public void ToCsv_HasAHeaderOfTheGroupedFieldsAndQuotesWhereNeeded()
    {
        var csv = UsageReportWriter.ToCsv(Rows, UsageGrouping.App | UsageGrouping.Day);

        Assert.Equal(
            "app,day,requests,upstreamCalls,cacheHits,promptTokens,completionTokens,costUsd,savedUsd\r\n"
            + "a,2026-03-01,3,2,1,22,14,0.0125,0.00625\r\n"
            + "\"b,c\",2026-03-02,1,1,0,11,7,0,0\r\n",
            csv);
    }

    [Fact]
    public void ToCsv_NeutralisesAFormula()
    {
        var csv = UsageReportWriter.ToCsv([new UsageRow("=cmd", null, null, null, 1, 1, 0, 0, 0, 0m, 0m)], UsageGrouping.App);

        Assert.StartsWith("app,", csv, StringComparison.Ordinal);
        Assert.Contains("\r\n'=cmd,1,", csv, StringComparison.Ordinal);
    }
}
