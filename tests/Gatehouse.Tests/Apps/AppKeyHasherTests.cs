using System.Security.Cryptography;
using System.Text;
using Gatehouse.Apps;
using Xunit;

namespace Gatehouse.Tests.Apps;

public sealed class AppKeyHasherTests
{
    // FIPS 180-2 test vector: SHA-256("abc").
    private const string AbcHash = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    [Fact]
    public void Hash_KnownVector_ReturnsLowercaseHexSha256()
    {
        Assert.Equal(AbcHash, AppKeyHasher.Hash("abc"));
    }

    [Fact]
    public void Hash_NonAsciiKey_HashesUtf8Bytes()
    {
        const string key = "clé-ünïcode-鍵";

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key))), AppKeyHasher.Hash(key));
    }

    [Fact]
    public void Hash_KeyTooLongForStackBuffer_HashesUtf8Bytes()
    {
        var key = new string('k', 1000);

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key))), AppKeyHasher.Hash(key));
    }

    [Fact]
    public void TryHashConfiguredKey_PlainKey_ReturnsHash()
    {
        var hash = AppKeyHasher.TryHashConfiguredKey("abc", out var error);

        Assert.Equal(AbcHash, hash);
        Assert.Null(error);
    }

    [Theory]
    [InlineData("sha256:" + AbcHash)]
    [InlineData("SHA256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD")]
    [InlineData("Sha256:Ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015AD")]
    public void TryHashConfiguredKey_Sha256AnyCase_ReturnsLowercaseHex(string configured)
    {
        var hash = AppKeyHasher.TryHashConfiguredKey(configured, out var error);

        Assert.Equal(AbcHash, hash);
        Assert.Null(error);
    }

    [Theory]
    [InlineData("sha256:")]
    [InlineData("sha256:abc")]
    [InlineData("sha256:ga7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    [InlineData("sha256: a7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    public void TryHashConfiguredKey_MalformedSha256_ReturnsNullWithReason(string configured)
    {
        var hash = AppKeyHasher.TryHashConfiguredKey(configured, out var error);

        Assert.Null(hash);
        Assert.Equal("must be 'sha256:' followed by 64 hex digits.", error);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void TryHashConfiguredKey_Empty_ReturnsNullWithReason(string? configured)
    {
        var hash = AppKeyHasher.TryHashConfiguredKey(configured, out var error);

        Assert.Null(hash);
        Assert.Equal("must not be empty.", error);
    }

    [Fact]
    public void TryHashConfiguredKey_EnvironmentVariableSet_HashesItsValue()
    {
        var variable = $"GATEHOUSE_TEST_KEY_{Guid.NewGuid():N}";
        Environment.SetEnvironmentVariable(variable, "abc");
        try
        {
            var hash = AppKeyHasher.TryHashConfiguredKey($"env:{variable}", out var error);

            Assert.Equal(AbcHash, hash);
            Assert.Null(error);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public void TryHashConfiguredKey_EnvironmentVariableHoldsSha256_ReturnsThatHash()
    {
        var variable = $"GATEHOUSE_TEST_KEY_{Guid.NewGuid():N}";
        Environment.SetEnvironmentVariable(variable, "sha256:" + AbcHash.ToUpperInvariant());
        try
        {
            Assert.Equal(AbcHash, AppKeyHasher.TryHashConfiguredKey($"env:{variable}", out _));
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public void TryHashConfiguredKey_EnvironmentVariableUnset_ReturnsNullWithReason()
    {
        var hash = AppKeyHasher.TryHashConfiguredKey($"env:GATEHOUSE_TEST_UNSET_{Guid.NewGuid():N}", out var error);

        Assert.Null(hash);
        Assert.Equal("refers to an environment variable that is not set.", error);
    }
}
