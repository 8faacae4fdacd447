using System.Collections;
using System.ComponentModel.DataAnnotations;
using System.Reflection;
using Gatehouse.Apps;
using Gatehouse.Configuration;
using Gatehouse.Grains;
using Gatehouse.Ledger;
using Gatehouse.Providers;
using Gatehouse.Routing;

namespace Gatehouse.Tests.Configuration;

public sealed class SettingRangeAttributeTests
{
    private const string TimeoutReason = " (an upstream call must end within the ten-minute grain call it runs in)";

    public static TheoryData<string, Action<GatehouseOptions>, string> OutOfRange => new()
    {
        // name, the change to an otherwise valid configuration, the one message expected
        { "silo port above 65535", o => o.Cluster.SiloPort = 70000, "Gatehouse:Cluster:SiloPort must be a whole number between 1 and 65535; it is 70000." },
        { "gateway port 0", o => o.Cluster.GatewayPort = 0, "Gatehouse:Cluster:GatewayPort must be a whole number between 1 and 65535; it is 0." },
        { "primary silo port above 65535", o => o.Cluster.PrimarySiloPort = 65536, "Gatehouse:Cluster:PrimarySiloPort must be a whole number between 1 and 65535; it is 65536." },
        { "timeout 1e300", o => o.Providers["p"].TimeoutSeconds = 1e300, $"Gatehouse:Providers:p:TimeoutSeconds must be a number greater than 0 and at most 600{TimeoutReason}; it is 1E+300." },
        { "timeout just above 600", o => o.Providers["p"].TimeoutSeconds = 600.5, $"Gatehouse:Providers:p:TimeoutSeconds must be a number greater than 0 and at most 600{TimeoutReason}; it is 600.5." },
        { "timeout negative", o => o.Providers["p"].TimeoutSeconds = -1, $"Gatehouse:Providers:p:TimeoutSeconds must be a number greater than 0 and at most 600{TimeoutReason}; it is -1." },
        { "break seconds above an hour", o => o.Providers["p"].CircuitBreaker.BreakSeconds = 3601, "Gatehouse:Providers:p:CircuitBreaker:BreakSeconds must be a number greater than 0 and at most 3600; it is 3601." },
        { "failure rate above 1", o => o.Providers["p"].FailureRate = 1.5, "Gatehouse:Providers:p:FailureRate must be a number between 0 and 1; it is 1.5." },
        { "latency above ten minutes", o => o.Providers["p"].LatencyMs = 600_001, "Gatehouse:Providers:p:LatencyMs must be a whole number between 0 and 600000; it is 600001." },
        { "stream chunk delay negative", o => o.Providers["p"].StreamChunkDelayMs = -1, "Gatehouse:Providers:p:StreamChunkDelayMs must be a whole number between 0 and 600000; it is -1." },
        { "retries above 10", o => o.Providers["p"].Retries = 11, "Gatehouse:Providers:p:Retries must be a whole number between 0 and 10; it is 11." },
        { "provider tokens per minute above a billion", o => o.Providers["p"].TokensPerMinute = 1_000_000_001, "Gatehouse:Providers:p:TokensPerMinute must be a whole number between 1 and 1000000000; it is 1000000001." },
        { "max concurrency above 100000", o => o.Providers["p"].MaxConcurrency = 100_001, "Gatehouse:Providers:p:MaxConcurrency must be a whole number between 1 and 100000; it is 100001." },
        { "max response bytes below 1 KiB", o => o.Providers["p"].MaxResponseBytes = 1023, "Gatehouse:Providers:p:MaxResponseBytes must be a whole number between 1024 and 1073741824; it is 1023." },
        { "hedge above ten minutes", o => o.Models["m"].HedgeAfterMs = 600_001, "Gatehouse:Models:m:HedgeAfterMs must be a whole number between 1 and 600000; it is 600001." },
        { "weight above a million", o => o.Models["m"].Targets[0].Weight = 1e7, "Gatehouse:Models:m:Targets:0:Weight must be a number greater than 0 and at most 1000000; it is 10000000." },
        { "negative price", o => o.Models["m"].Pricing!.OutputPerMillion = -0.01, "Gatehouse:Models:m:Pricing:OutputPerMillion must be a number between 0 and 1000000; it is -0.01." },
        { "negative budget", o => o.Apps["a"].BudgetUsdPerDay = -1, "Gatehouse:Apps:a:BudgetUsdPerDay must be a number between 0 and 1000000000; it is -1." },
        { "undefined priority", o => o.Apps["a"].Priority = (RequestPriority)7, "Gatehouse:Apps:a:Priority must be one of Low, Normal, High; it is 7." },
        { "app requests per minute above ten million", o => o.Apps["a"].RequestsPerMinute = 10_000_001, "Gatehouse:Apps:a:RequestsPerMinute must be a whole number between 1 and 10000000; it is 10000001." },
        { "cache ttl above 30 days", o => o.Cache.TtlSeconds = 2_592_001, "Gatehouse:Cache:TtlSeconds must be a whole number between 1 and 2592000; it is 2592001." },
        { "cache entry above 1 GiB", o => o.Cache.MaxEntryBytes = int.MaxValue, "Gatehouse:Cache:MaxEntryBytes must be a whole number between 1 and 1073741824; it is 2147483647." },
        { "request body -1", o => o.MaxRequestBodyBytes = -1, "Gatehouse:MaxRequestBodyBytes must be a whole number between 1 and 1073741824; it is -1." },
        { "request body above 1 GiB", o => o.MaxRequestBodyBytes = 1L << 40, "Gatehouse:MaxRequestBodyBytes must be a whole number between 1 and 1073741824; it is 1099511627776." },
        { "routing wait above ten minutes", o => o.Routing.MaxWaitMs = 600_001, "Gatehouse:Routing:MaxWaitMs must be a whole number between 0 and 600000; it is 600001." },
        { "wait cap negative", o => o.RateLimits.MaxWaitCapMs = -1, "Gatehouse:RateLimits:MaxWaitCapMs must be a whole number between 0 and 600000; it is -1." },
        { "image token estimate negative", o => o.RateLimits.ImageTokenEstimate = -1, "Gatehouse:RateLimits:ImageTokenEstimate must be a whole number between 0 and 1000000; it is -1." },
        { "concurrency lease above an hour", o => o.RateLimits.ConcurrencyLeaseSeconds = 3601, "Gatehouse:RateLimits:ConcurrencyLeaseSeconds must be a number greater than 0 and at most 3600; it is 3601." },
    };

    [Theory]
    [MemberData(nameof(OutOfRange))]
    public void Collect_OutOfRange_NamesKeyRangeAndValue(string name, Action<GatehouseOptions> change, string expected)
    {
        var options = FullOptions();
        change(options);

        var errors = Collect(options);

        Assert.True(errors.Count == 1 && errors[0] == expected, $"{name}: {string.Join(" | ", errors)}");
    }

    [Fact]
    public void Collect_DefaultsAndAFullValidConfiguration_HaveNoErrors()
    {
        Assert.Empty(Collect(new GatehouseOptions()));
        Assert.Empty(Collect(FullOptions()));
    }

    [Fact]
    public void Schema_EveryNumericSetting_DeclaresARange()
    {
        var unbounded = ValueSettings(typeof(GatehouseOptions))
            .Where(p => IsNumber(p.PropertyType) && p.GetCustomAttribute<RangeAttribute>() is null)
            .Select(p => $"{p.DeclaringType!.Name}.{p.Name}")
            .ToList();

        Assert.Empty(unbounded);
    }

    [Fact]
    public void Schema_EveryRange_IsASettingRange()
    {
        // A plain [Range] would be checked by the generated validators with a message that names no configuration key.
        var plain = ValueSettings(typeof(GatehouseOptions))
            .Where(p => p.GetCustomAttribute<RangeAttribute>() is { } range && range is not SettingRangeAttribute)
            .Select(p => $"{p.DeclaringType!.Name}.{p.Name}")
            .ToList();

        Assert.Empty(plain);
    }

    [Fact]
    public void Schema_EveryEnumSetting_DeclaresDefinedValue()
    {
        var notChecked = ValueSettings(typeof(GatehouseOptions))
            .Where(p => (Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType).IsEnum && p.GetCustomAttribute<DefinedValueAttribute>() is null)
            .Select(p => $"{p.DeclaringType!.Name}.{p.Name}")
            .ToList();

        Assert.Empty(notChecked);
    }

    public static TheoryData<Action<GatehouseOptions>, string> UndefinedEnums => new()
    {
        { o => o.Models["m"].Type = (ModelType)9, "Gatehouse:Models:m:Type must be one of Chat, Embeddings; it is 9." },
        { o => o.Cluster.Kind = (ClusterKind)5, "Gatehouse:Cluster:Kind must be one of Localhost, AdoNet; it is 5." },
        { o => o.Storage.Kind = (StorageKind)5, "Gatehouse:Storage:Kind must be one of Memory, PostgreSql; it is 5." },
    };

    [Theory]
    [MemberData(nameof(UndefinedEnums))]
    public void Collect_UndefinedEnumValue_NamesKeyNamesAndValue(Action<GatehouseOptions> change, string expected)
    {
        var options = FullOptions();
        change(options);

        Assert.Equal([expected], Collect(options));
    }

    [Fact]
    public void Collect_EntryNamesWithDots_AreNamedWhole()
    {
        var options = new GatehouseOptions
        {
            Providers = { ["azure.eu"] = new ProviderOptions { Kind = ProviderKinds.Simulated, RequestsPerMinute = 0, CircuitBreaker = { BreakSeconds = 0 } } },
            Models = { ["gpt-4.1"] = new ModelOptions { Targets = [new TargetOptions { Provider = "azure.eu", Model = "x", Weight = 0 }] } },
        };

        Assert.Equal(
        [
            "Gatehouse:Providers:azure.eu:RequestsPerMinute must be a whole number between 1 and 10000000; it is 0.",
            "Gatehouse:Providers:azure.eu:CircuitBreaker:BreakSeconds must be a number greater than 0 and at most 3600; it is 0.",
            "Gatehouse:Models:gpt-4.1:Targets:0:Weight must be a number greater than 0 and at most 1000000; it is 0.",
        ], Collect(options));
    }

    [Theory]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.PositiveInfinity, "Infinity")]
    [InlineData(double.NegativeInfinity, "-Infinity")]
    public void Collect_NonFiniteValue_IsRefusedForEveryFloatingPointSetting(double value, string written)
    {
        var settings = NumericSettings(FullOptions(), "Gatehouse").Where(s => IsFloatingPoint(s.Property.PropertyType)).ToList();
        Assert.NotEmpty(settings);

        foreach (var (_, property, path) in settings)
        {
            var options = FullOptions();
            var (sameOwner, _, _) = NumericSettings(options, "Gatehouse").Single(s => s.Path == path);
            property.SetValue(sameOwner, value);

            var errors = Collect(options);

            var error = Assert.Single(errors);
            Assert.StartsWith($"{path} must be a number ", error);
            Assert.EndsWith($"; it is {written}.", error);
        }
    }

    [Fact]
    public void Collect_EveryNumericSettingAtAndBeyondItsBounds_IsAcceptedAndRefusedThere()
    {
        foreach (var (_, property, path) in NumericSettings(FullOptions(), "Gatehouse"))
        {
            var range = property.GetCustomAttribute<RangeAttribute>()!;
            var min = Convert.ToDouble(range.Minimum);
            var max = Convert.ToDouble(range.Maximum);
            var step = IsFloatingPoint(property.PropertyType) ? Math.Max(1e-6, max * 1e-9) : 1;

            Assert.True(ErrorsWith(path, max).Count == 0, $"{path} = {max} (its maximum) was refused");
            Assert.True(ErrorsWith(path, range.MinimumIsExclusive ? min + step : min).Count == 0, $"{path} at its minimum was refused");
            Assert.True(ErrorsWith(path, max + step) is [var above] && above.StartsWith(path + " must be", StringComparison.Ordinal), $"{path} = {max + step} was not refused alone");
            Assert.True(ErrorsWith(path, range.MinimumIsExclusive ? min : min - step) is [var below] && below.StartsWith(path + " must be", StringComparison.Ordinal), $"{path} below its minimum was not refused alone");
        }
    }

    private static List<string> ErrorsWith(string path, double value)
    {
        var options = FullOptions();
        var (owner, property, _) = NumericSettings(options, "Gatehouse").Single(s => s.Path == path);
        var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        property.SetValue(owner, Convert.ChangeType(value, type, System.Globalization.CultureInfo.InvariantCulture));
        return Collect(options);
    }

    private static List<string> Collect(GatehouseOptions options) => GatehouseOptionsCrossFieldValidator.SettingFailures(options);

    /// <summary>Every number setting reachable in <paramref name="options"/>, with the object holding it and its key.</summary>
    private static IEnumerable<(object Owner, PropertyInfo Property, string Path)> NumericSettings(object options, string key)
    {
        foreach (var property in options.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod is { IsPublic: true }))
        {
            var path = $"{key}:{property.Name}";
            var value = property.GetValue(options);
            if (IsNumber(property.PropertyType))
            {
                yield return (options, property, path);
            }
            else if (value is IDictionary entries)
            {
                foreach (DictionaryEntry entry in entries)
                {
                    foreach (var inner in NumericSettings(entry.Value!, $"{path}:{entry.Key}"))
                    {
                        yield return inner;
                    }
                }
            }
            else if (value is IList items)
            {
                for (var i = 0; i < items.Count; i++)
                {
                    if (items[i] is string)
                    {
                        continue;
                    }

                    foreach (var inner in NumericSettings(items[i]!, $"{path}:{i}"))
                    {
                        yield return inner;
                    }
                }
            }
            else if (value is not null and not string && property.PropertyType.IsClass)
            {
                foreach (var inner in NumericSettings(value, path))
                {
                    yield return inner;
                }
            }
        }
    }

    private static IEnumerable<PropertyInfo> ValueSettings(Type type)
    {
        var seen = new HashSet<Type>();
        var pending = new Queue<Type>([type]);
        while (pending.TryDequeue(out var current))
        {
            if (!seen.Add(current))
            {
                continue;
            }

            foreach (var property in current.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                var propertyType = property.PropertyType;
                var element = propertyType.IsGenericType && propertyType.GetGenericTypeDefinition() is var d && (d == typeof(List<>) || d == typeof(Dictionary<,>))
                    ? propertyType.GetGenericArguments()[^1]
                    : propertyType;
                if (element.IsClass && element != typeof(string))
                {
                    pending.Enqueue(element);
                }
                else
                {
                    yield return property;
                }
            }
        }
    }

    private static bool IsNumber(Type type)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        return underlying == typeof(int) || underlying == typeof(long) || IsFloatingPoint(underlying);
    }

    private static bool IsFloatingPoint(Type type) => (Nullable.GetUnderlyingType(type) ?? type) == typeof(double);

    /// <summary>Every section, entry and nullable number present, so every setting can be reached and changed.</summary>
    private static GatehouseOptions FullOptions() => new()
    {
        Providers =
        {
            ["p"] = new ProviderOptions
            {
                Kind = ProviderKinds.Simulated,
                RequestsPerMinute = 10_000_000,
                Burst = 1,
                TokensPerMinute = 1000,
                MaxConcurrency = 4,
                DefaultMaxTokensEstimate = 100,
                DefaultMaxTokens = 100,
            },
        },
        Models =
        {
            ["m"] = new ModelOptions
            {
                Targets = [new TargetOptions { Provider = "p", Model = "x" }],
                HedgeAfterMs = 100,
                Pricing = new PricingOptions { InputPerMillion = 1, OutputPerMillion = 2 },
            },
        },
        Apps =
        {
            ["a"] = new AppOptions
            {
                Keys = ["k"],
                RequestsPerMinute = 10_000_000,
                Burst = 1,
                TokensPerMinute = 1000,
                BudgetUsdPerDay = 5,
                DefaultMaxTokensEstimate = 100,
            },
        },
        Cluster = { PrimarySiloPort = 11111 },
    };
}
