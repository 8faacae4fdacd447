using System.Collections.Immutable;
using Xunit;

namespace Gatehouse.Tests.Providers;

/// <summary>Vector comparisons xUnit's collection equality does not make (it compares nested arrays by reference).</summary>
internal static class EmbeddingAssert
{
    /// <summary>The same vectors in the same order, every component exactly equal.</summary>
    public static void Equal(IReadOnlyList<float[]> expected, ImmutableArray<float[]> actual)
    {
        Assert.Equal(expected.Count, actual.Length);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.True(expected[i].AsSpan().SequenceEqual(actual[i]), $"vector {i} differs: expected [{string.Join(", ", expected[i])}], got [{string.Join(", ", actual[i])}]");
        }
    }
}
