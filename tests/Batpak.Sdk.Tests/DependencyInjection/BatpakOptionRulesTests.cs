// BatpakOptionRules is the one table of option rules: every public setting of BatpakOptions has a row, binds from
// configuration, and gets one verdict, in one text, from the EventStore constructor, the DI validator and the binder.
using System.Reflection;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Batpak.DependencyInjection;
using Batpak.Tests.Samples;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Batpak.Tests.DependencyInjection;

public partial class BatpakOptionRulesTests
{
    private static readonly byte[] s_key = [.. Enumerable.Range(1, 32).Select(static i => (byte)i)];
    private static readonly string s_shortKey = Convert.ToBase64String(new byte[8]);

    /// <summary>
    /// Per setting: a valid configuration value and what it binds to; an invalid configuration value (or, where no
    /// configuration string can hold one, an invalid value set in code) and how its failure shows the bad value.
    /// </summary>
    private sealed record Sample(string Valid, object Expected, string Invalid, string Shown, Action<BatpakOptions>? InvalidInCode = null);

    private static Dictionary<string, Sample> Samples(string directory) => new()
    {
        [nameof(BatpakOptions.DataDirectory)] = new(directory, directory, "   ", "\"   \""),
        [nameof(BatpakOptions.SegmentMaxBytes)] = new("1048576", 1_048_576L, "4095", "got 4095"),
        [nameof(BatpakOptions.SyncEveryNEvents)] = new("5", 5, "0", "got 0"),
        [nameof(BatpakOptions.SyncMode)] = new("all", SyncMode.All, "9", "got 9", o => o.SyncMode = (SyncMode)9),
        [nameof(BatpakOptions.FileHandleBudget)] = new("3", 3, "100000", "got 100000"),
        [nameof(BatpakOptions.WriteQueueCapacity)] = new("64", 64, "0", "got 0"),
        [nameof(BatpakOptions.MaxBatchEvents)] = new("99", 99, "-1", "got -1"),
        [nameof(BatpakOptions.MaxEventBytes)] = new("2048", 2048, "1023", "got 1023"),
        [nameof(BatpakOptions.DefaultScope)] = new("tenant:cfg", "tenant:cfg", "bad\u0001scope", "\"bad\\u0001scope\" (it holds the control character U+0001 at index 3)"),
        [nameof(BatpakOptions.WriterRestartLimit)] = new("7", 7, "1001", "got 1001"),
        [nameof(BatpakOptions.WriterRestartWindow)] = new("00:05:00", TimeSpan.FromMinutes(5), "00:00:00", "got 00:00:00"),
        [nameof(BatpakOptions.ShutdownDrainTimeout)] = new("00:00:05", TimeSpan.FromSeconds(5), "1.00:00:00.0000001", "got 1.00:00:00.0000001"),
        [nameof(BatpakOptions.SlowSyncThreshold)] = new("00:00:00.050", TimeSpan.FromMilliseconds(50), "-00:00:00.001", "got -00:00:00.0010000"),
        [nameof(BatpakOptions.ChainKey)] = new(Convert.ToBase64String(s_key), s_key, s_shortKey, "got 8 bytes"),
        [nameof(BatpakOptions.GatedKinds)] = new("0x1001, 0xe002", new[] { EventKind.Create(0x1, 0x001), EventKind.Create(0xE, 0x002) }, "0x1001,0x0001", "lists 0x0001,"),
    };

    /// <summary>The public settings: settable properties, and mutable collections such as <see cref="BatpakOptions.GatedKinds"/>.</summary>
    private static PropertyInfo[] Settings() =>
        typeof(BatpakOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(static p => p.SetMethod?.IsPublic == true || (p.PropertyType.IsGenericType && p.PropertyType.GetGenericTypeDefinition() == typeof(ISet<>)))
            .ToArray();

    [Fact]
    public void EveryPublicSetting_HasARule_AndEveryRuleIsAPublicSetting()
    {
        string[] settings = [.. Settings().Select(static p => p.Name)];
        Assert.Equal(typeof(BatpakOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance).Length, settings.Length); // no public property escapes the walk

        Assert.Equal(settings.Order(StringComparer.Ordinal), BatpakOptionRules.All.Select(static r => r.Name).Order(StringComparer.Ordinal));
        Assert.Equal(settings.Order(StringComparer.Ordinal), Samples("unused").Keys.Order(StringComparer.Ordinal)); // a new rule needs a sample here
    }

    [Fact]
    public void EverySetting_BindsAValidValue_ThatTheConstructorAndTheValidatorAccept()
    {
        using var dir = new TempDirectory();
        foreach (PropertyInfo setting in Settings())
        {
            (_, Sample sample, IConfiguration section) = Arrange(dir, setting, static s => s.Valid);

            var bound = new BatpakOptions();
            BatpakConfigurationBinder.Bind(section, bound);
            Assert.Equivalent(sample.Expected, setting.GetValue(bound), strict: true);
            Assert.True(new BatpakOptionsValidator().Validate(null, bound).Succeeded, setting.Name);

            using ServiceProvider provider = new ServiceCollection().AddBatpak(section).Services.BuildServiceProvider();
            Assert.Equivalent(sample.Expected, setting.GetValue(provider.GetRequiredService<IOptions<BatpakOptions>>().Value), strict: true);

            using var store = new EventStore(bound);
            Assert.Equivalent(sample.Expected, setting.GetValue(store.Options), strict: true);
        }
    }

    [Fact]
    public void EverySetting_RefusesAnInvalidValue_WithOneTextNamingIt_FromConstructorValidatorAndBinder()
    {
        using var dir = new TempDirectory();
        foreach (PropertyInfo setting in Settings())
        {
            (string directory, Sample sample, IConfiguration section) = Arrange(dir, setting, static s => s.Invalid);
            BatpakOptionRule rule = BatpakOptionRules.Find(setting.Name)!;
            var options = new BatpakOptions();
            string? bindFailure = Record.Exception(() => BatpakConfigurationBinder.Bind(section, options))?.Message;

            string failure;
            if (bindFailure is not null)
            {
                // The binder refuses a value it cannot parse, naming the key and the setting.
                Assert.Contains($"'Batpak:{setting.Name}'", bindFailure, StringComparison.Ordinal);
                Assert.Contains($"BatpakOptions.{setting.Name}", bindFailure, StringComparison.Ordinal);
                Assert.NotNull(sample.InvalidInCode);
                options = new BatpakOptions { DataDirectory = directory };
                sample.InvalidInCode(options);
                failure = Assert.Single(new BatpakOptionsValidator().Validate(null, options).Failures ?? []);
            }
            else
            {
                // The binder parses it; the validation that follows refuses it with the validator's text.
                failure = Assert.Single(new BatpakOptionsValidator().Validate(null, options).Failures ?? []);
                using ServiceProvider provider = new ServiceCollection().AddBatpak(section).Services.BuildServiceProvider();
                OptionsValidationException invalid = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<BatpakOptions>>().Value);
                Assert.Equal([failure], invalid.Failures);
            }

            Assert.StartsWith($"BatpakOptions.{setting.Name} ", failure, StringComparison.Ordinal);
            Assert.Contains(sample.Shown, failure, StringComparison.Ordinal);
            ArgumentException thrown = Assert.IsAssignableFrom<ArgumentException>(Record.Exception(() => new EventStore(options).Dispose()));
            Assert.Equal(setting.Name, thrown.ParamName);
            Assert.Equal(new ArgumentException(failure, setting.Name).Message, thrown.Message);
            if (rule.IsSecret)
            {
                Assert.DoesNotContain(sample.Invalid, failure, StringComparison.Ordinal);
                Assert.DoesNotContain(sample.Invalid, bindFailure ?? "", StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task TheReportedDisagreements_NowGetOneVerdict()
    {
        using var dir = new TempDirectory();

        // WriterRestartWindow = 0 passed DI validation, then failed the host start in the constructor.
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddBatpak(o =>
        {
            o.DataDirectory = dir.Path;
            o.WriterRestartWindow = TimeSpan.Zero;
        });
        using (IHost host = builder.Build())
        {
            OptionsValidationException ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
            Assert.Equal(["BatpakOptions.WriterRestartWindow must be more than 00:00:00; got 00:00:00."], ex.Failures);
        }

        // FileHandleBudget = 100000 was accepted by the constructor and refused by AddBatpak.
        var tooMany = Assert.Throws<ArgumentOutOfRangeException>(() => TestEvents.Open(dir.Path, o => o.FileHandleBudget = 100_000));
        Assert.StartsWith("BatpakOptions.FileHandleBudget must be 1 to 8192; got 100000.", tooMany.Message, StringComparison.Ordinal);
        using EventStore atTheCap = TestEvents.Open(dir.Path, o => o.FileHandleBudget = BatpakOptionRules.MaxFileHandleBudget);
    }

    [Theory]
    [InlineData("30", false)] // "c" alone would read a bare number as days
    [InlineData("1.00:00:00", true)]
    [InlineData("00:00:30", true)]
    [InlineData("0:0:30", true)]
    [InlineData("00:00:30.5", true)]
    [InlineData("30s", false)]
    [InlineData("", false)]
    public void TimeSpans_BindInTheConstantFormat_WithHoursAndMinutes(string text, bool parses)
    {
        var options = new BatpakOptions();
        Assert.Equal(parses, BatpakOptionRules.Find(nameof(BatpakOptions.WriterRestartWindow))!.TryBind(options, text));
        if (!parses)
        {
            Assert.Equal(TimeSpan.FromMinutes(1), options.WriterRestartWindow);
        }
    }

    [Fact]
    public void GatedKinds_BindFromAnArray_AndAddToTheKindsSetInCode()
    {
        IConfiguration section = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Batpak:DataDirectory"] = "/tmp/unused",
            ["Batpak:GatedKinds:0"] = "0x1001",
            ["Batpak:GatedKinds:1"] = "0xE002",
        }).Build().GetSection("Batpak");
        var options = new BatpakOptions { GatedKinds = { EventKind.Create(0x2, 0x003) } };

        BatpakConfigurationBinder.Bind(section, options);

        Assert.True(options.GatedKinds.SetEquals([EventKind.Create(0x1, 0x001), EventKind.Create(0xE, 0x002), EventKind.Create(0x2, 0x003)]));
    }

    [Theory]
    [InlineData("0x1001;0x1002")]
    [InlineData("4097")]
    [InlineData("0x10010")]
    [InlineData("0x1001,")]
    [InlineData("0xG001")]
    public void GatedKinds_InAnotherForm_AreRefusedNamingTheSetting(string text)
    {
        var ex = Assert.Throws<InvalidOperationException>(() => BatpakConfigurationBinder.Bind(Section("/tmp/unused", nameof(BatpakOptions.GatedKinds), text), new BatpakOptions()));
        Assert.Contains("is not a valid BatpakOptions.GatedKinds: expected event kinds as EventKind prints them", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not base64, and secret!")]
    [InlineData("AAAA====")]
    public void ChainKey_NotBase64OrEmpty_IsRefused_WithoutShowingTheValue(string text)
    {
        IConfiguration section = Section("/tmp/unused", nameof(BatpakOptions.ChainKey), text);
        var options = new BatpakOptions();
        string message = Record.Exception(() => BatpakConfigurationBinder.Bind(section, options))?.Message
            ?? Assert.Single(new BatpakOptionsValidator().Validate(null, options).Failures ?? []);

        Assert.Contains("BatpakOptions.ChainKey", message, StringComparison.Ordinal);
        if (text.Length > 0)
        {
            Assert.DoesNotContain(text, message, StringComparison.Ordinal);
            Assert.Contains($"({text.Length} characters, not shown)", message, StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal("BatpakOptions.ChainKey must be null (no key) or at least 16 bytes; got 0 bytes.", message); // an empty secret never means "unkeyed"
        }
    }

    [Fact]
    public void UnknownKey_IsRefused_ListingEverySetting()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => BatpakConfigurationBinder.Bind(Section("/tmp/unused", "WriterRestartWindows", "00:01:00"), new BatpakOptions()));
        Assert.Contains("'Batpak:WriterRestartWindows' is not a BatpakOptions setting; the settings are " + string.Join(", ", Settings().Select(static p => p.Name)), ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Engine")]
    [InlineData("engine")]
    public void EngineKey_NamesTheApplicationsEngine_AndIsNoStoreSetting_SoTheBinderSkipsIt(string key)
    {
        var options = new BatpakOptions();
        BatpakConfigurationBinder.Bind(Section("/tmp/unused", key, "PostgreSql"), options);
        Assert.Equal("/tmp/unused", options.DataDirectory); // the rest still binds
        Assert.Equivalent(new BatpakOptions { DataDirectory = "/tmp/unused" }, options);
    }

    [Fact]
    public void EachPropertysXmlDoc_AndTheReadmeTable_StateTheRulesRange()
    {
        string xml = Path.Combine(AppContext.BaseDirectory, "Batpak.Sdk.xml");
        Assert.True(File.Exists(xml), $"{xml} is missing: Batpak.Sdk generates its documentation file and the test build copies it.");
        Dictionary<string, string> docs = XDocument.Load(xml).Descendants("member")
            .ToDictionary(static m => (string)m.Attribute("name")!, static m => Whitespace().Replace(m.Value, " "), StringComparer.Ordinal);
        string[] readme = File.ReadAllLines(Path.Combine(SampleProcess.RepoRoot, "README.md"));

        foreach (BatpakOptionRule rule in BatpakOptionRules.All)
        {
            Assert.Contains("Valid: " + rule.Valid, docs[$"P:Batpak.BatpakOptions.{rule.Name}"], StringComparison.Ordinal);
            string row = Assert.Single(readme, line => line.StartsWith($"| `{rule.Name}` |", StringComparison.Ordinal));
            Assert.Contains(rule.Valid, row.Replace("`", "", StringComparison.Ordinal), StringComparison.Ordinal);
        }
    }

    /// <summary>A data directory of the setting's own, its sample, and a configuration section with the chosen value of it.</summary>
    private static (string Directory, Sample Sample, IConfiguration Section) Arrange(TempDirectory dir, PropertyInfo setting, Func<Sample, string> value)
    {
        string directory = dir.Combine(setting.Name);
        Sample sample = Samples(directory)[setting.Name];
        return (directory, sample, Section(directory, setting.Name, value(sample)));
    }

    private static IConfiguration Section(string directory, string key, string value)
    {
        var values = new Dictionary<string, string?> { ["Batpak:DataDirectory"] = directory, ["Batpak:" + key] = value };
        return new ConfigurationBuilder().AddInMemoryCollection(values).Build().GetSection("Batpak");
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
