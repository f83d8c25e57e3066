using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Batpak.Tests.DependencyInjection;

[BatpakEvent(Category = 0x4, Type = 0x001)]
public sealed partial record MemberJoined([property: Entity("member:{0}")] string MemberId, string Name);

[BatpakEvent(Category = 0x4, Type = 0x002)]
public sealed partial record CreditGranted([property: Entity("member:{0}")] string MemberId, decimal Amount);

public class AddBatpakTests
{
    [Fact]
    public void AddBatpak_Resolves_EventStoreAndInterfaceAsOneSingleton()
    {
        using var dir = new TempDirectory();
        var services = new ServiceCollection();
        services.AddBatpak(o => o.DataDirectory = dir.Path);
        using ServiceProvider provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        EventStore store = provider.GetRequiredService<EventStore>();
        Assert.Same(store, provider.GetRequiredService<IEventStore>());
        Assert.Same(TimeProvider.System, provider.GetRequiredService<TimeProvider>());
        Assert.Equal(Path.GetFullPath(dir.Path), store.DataDirectory);
    }

    [Fact]
    public void AddBatpak_CalledTwice_RegistersEachServiceOnce_AndAppliesBothConfigurations()
    {
        using var dir = new TempDirectory();
        var services = new ServiceCollection();
        IBatpakBuilder first = services.AddBatpak(o => o.DataDirectory = dir.Path);
        int countAfterFirst = services.Count;
        IBatpakBuilder second = services.AddBatpak(o => o.SyncEveryNEvents = 7);

        Assert.Same(services, first.Services);
        Assert.Same(services, second.Services);
        Assert.Single(services, d => d.ServiceType == typeof(EventStore));
        Assert.Single(services, d => d.ServiceType == typeof(IEventStore));
        Assert.Single(services, d => d.ServiceType == typeof(TimeProvider));
        Assert.Single(services, d => d.ServiceType == typeof(IEventTypeRegistry));
        Assert.Single(services, d => d.ServiceType == typeof(IHostedService));
        Assert.Single(services, d => d.ServiceType == typeof(IValidateOptions<BatpakOptions>)); // one validator: the rule table
        Assert.Equal(countAfterFirst + 1, services.Count); // only the second configure action was added

        using ServiceProvider provider = services.BuildServiceProvider();
        BatpakOptions options = provider.GetRequiredService<EventStore>().Options;
        Assert.Equal(Path.GetFullPath(dir.Path), Path.GetFullPath(options.DataDirectory));
        Assert.Equal(7, options.SyncEveryNEvents);
    }

    [Fact]
    public void AddBatpak_KeepsATimeProviderRegisteredBefore()
    {
        using var dir = new TempDirectory();
        var clock = new ManualTimeProvider(new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero));
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(clock);
        services.AddBatpak(o => o.DataDirectory = dir.Path);
        using ServiceProvider provider = services.BuildServiceProvider();

        IEventStore store = provider.GetRequiredService<IEventStore>();
        AppendReceipt receipt = store.Append(new MemberJoined("di", "Dee"));

        Assert.Equal(clock.GetUtcNow(), store.Get(receipt.EventId).Header.Timestamp);
    }

    [Fact]
    public async Task DisposingTheProvider_DisposesTheStore_AndReleasesTheDirectoryLock()
    {
        using var dir = new TempDirectory();
        var services = new ServiceCollection();
        services.AddBatpak(o => o.DataDirectory = dir.Path);
        ServiceProvider provider = services.BuildServiceProvider();
        IEventStore store = provider.GetRequiredService<IEventStore>();
        AppendReceipt receipt = store.Append(new MemberJoined("lock", "Lou"));
        Assert.Throws<StoreLockedException>(() => EventStore.Open(dir.Path));

        await provider.DisposeAsync();

        Assert.Throws<ObjectDisposedException>(() => store.Get(receipt.EventId));
        using EventStore reopened = EventStore.Open(dir.Path);
        Assert.Equal("Lou", reopened.Get<MemberJoined>(receipt.EventId).Event.Name);
    }

    [Fact]
    public void DisposingTheProviderSynchronously_AlsoReleasesTheDirectoryLock()
    {
        using var dir = new TempDirectory();
        var services = new ServiceCollection();
        services.AddBatpak(o => o.DataDirectory = dir.Path);
        using (ServiceProvider provider = services.BuildServiceProvider())
        {
            provider.GetRequiredService<IEventStore>().Append(new MemberJoined("sync", "Sy"));
        }

        using EventStore reopened = EventStore.Open(dir.Path);
        Assert.Equal(1, reopened.GetStats().EventCount);
    }

    [Fact]
    public void InvalidOptions_WithoutHost_FirstResolveListsEveryBadSetting()
    {
        var services = new ServiceCollection();
        services.AddBatpak(o =>
        {
            o.SyncEveryNEvents = 0;
            o.MaxEventBytes = 1;
            o.SyncMode = (SyncMode)9;
            o.DefaultScope = "bad\nscope";
        });
        using ServiceProvider provider = services.BuildServiceProvider();

        OptionsValidationException ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IEventStore>());

        Assert.Contains(ex.Failures, f => f.Contains("DataDirectory", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("SyncEveryNEvents", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("MaxEventBytes", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("SyncMode", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("DefaultScope", StringComparison.Ordinal));
    }

    [Fact]
    public async Task HostStart_WithInvalidOptions_FailsBeforeAnythingRuns()
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddBatpak(o => o.FileHandleBudget = 0);
        using IHost host = builder.Build();

        OptionsValidationException ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(ex.Failures, f => f.Contains("DataDirectory", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("FileHandleBudget", StringComparison.Ordinal));
    }

    [Fact]
    public async Task HostStart_OpensTheStore_SoALockedDirectoryFailsTheStart()
    {
        using var dir = new TempDirectory();
        using EventStore holder = EventStore.Open(dir.Path);
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddBatpak(o => o.DataDirectory = dir.Path);
        using IHost host = builder.Build();

        await Assert.ThrowsAsync<StoreLockedException>(() => host.StartAsync());
    }

    [Fact]
    public async Task HostStart_WithADataDirectoryThatIsAFile_Fails()
    {
        using var dir = new TempDirectory();
        string file = dir.Combine("not-a-directory");
        await File.WriteAllTextAsync(file, "x");
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddBatpak(o => o.DataDirectory = file);
        using IHost host = builder.Build();

        await Assert.ThrowsAsync<IOException>(() => host.StartAsync());
    }

    [Fact]
    public async Task HostStart_OpensTheStore_AndStopThenDisposeReleasesIt()
    {
        using var dir = new TempDirectory();
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddBatpak(o => o.DataDirectory = dir.Path);
        using (IHost host = builder.Build())
        {
            await host.StartAsync();
            Assert.Throws<StoreLockedException>(() => EventStore.Open(dir.Path)); // opened by the hosted service
            host.Services.GetRequiredService<IEventStore>().Append(new MemberJoined("host", "Hal"));
            await host.StopAsync();
        }

        using EventStore reopened = EventStore.Open(dir.Path);
        Assert.Equal(1, reopened.GetStats().EventCount);
    }

    [Fact]
    public async Task BindConfiguration_ReadsTheSectionOfTheHostConfiguration()
    {
        using var dir = new TempDirectory();
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Store:DataDirectory"] = dir.Path,
            ["Store:SyncEveryNEvents"] = "5",
            ["Store:syncmode"] = "all",
            ["Store:SegmentMaxBytes"] = "1048576",
            ["Store:ShutdownDrainTimeout"] = "00:00:05",
            ["Store:SlowSyncThreshold"] = "00:00:00.050",
            ["Store:DefaultScope"] = "tenant:cfg",
        });
        builder.Services.AddBatpak().BindConfiguration("Store").Configure(o => o.MaxBatchEvents = 99);
        using IHost host = builder.Build();
        await host.StartAsync();

        BatpakOptions options = host.Services.GetRequiredService<EventStore>().Options;

        Assert.Equal(5, options.SyncEveryNEvents);
        Assert.Equal(SyncMode.All, options.SyncMode);
        Assert.Equal(1_048_576, options.SegmentMaxBytes);
        Assert.Equal(TimeSpan.FromSeconds(5), options.ShutdownDrainTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(50), options.SlowSyncThreshold);
        Assert.Equal("tenant:cfg", options.DefaultScope);
        Assert.Equal(99, options.MaxBatchEvents);
        await host.StopAsync();
    }

    [Fact]
    public void AddBatpakWithConfiguration_BindsThenAppliesCode()
    {
        using var dir = new TempDirectory();
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Batpak:DataDirectory"] = dir.Path,
            ["Batpak:FileHandleBudget"] = "3",
            ["Batpak:WriteQueueCapacity"] = "64",
        }).Build();
        var services = new ServiceCollection();
        services.AddBatpak(configuration.GetSection("Batpak"), o => o.FileHandleBudget = 4);
        using ServiceProvider provider = services.BuildServiceProvider();

        BatpakOptions options = provider.GetRequiredService<IOptions<BatpakOptions>>().Value;

        Assert.Equal(dir.Path, options.DataDirectory);
        Assert.Equal(4, options.FileHandleBudget);
        Assert.Equal(64, options.WriteQueueCapacity);
    }

    [Theory]
    [InlineData("SyncEveryNEvent", "5", "'Batpak:SyncEveryNEvent' is not a BatpakOptions setting")]
    [InlineData("SyncEveryNEvents", "five", "'Batpak:SyncEveryNEvents' = 'five' is not a valid BatpakOptions.SyncEveryNEvents: expected an integer")]
    [InlineData("SyncMode", "1", "'Batpak:SyncMode' = '1' is not a valid BatpakOptions.SyncMode: expected Data or All")]
    [InlineData("ShutdownDrainTimeout", "soon", "'Batpak:ShutdownDrainTimeout' = 'soon' is not a valid BatpakOptions.ShutdownDrainTimeout: expected a time span")]
    public void BindConfiguration_BadKeyOrValue_ThrowsNamingTheKey(string key, string value, string expected)
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Batpak:DataDirectory"] = "/tmp/unused",
            ["Batpak:" + key] = value,
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton(configuration);
        services.AddBatpak().BindConfiguration();
        using ServiceProvider provider = services.BuildServiceProvider();

        InvalidOperationException ex = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<IOptions<BatpakOptions>>().Value);

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EventTypeRegistry_IsTheCombinedRegistry_AndKnowsThisAssemblysEvents()
    {
        var services = new ServiceCollection();
        services.AddBatpak(o => o.DataDirectory = "/tmp/unused").AddEventTypes(Batpak.Generated.Batpak.Sdk.Tests.BatpakEventRegistry.Instance);
        using ServiceProvider provider = services.BuildServiceProvider();

        IEventTypeRegistry registry = provider.GetRequiredService<IEventTypeRegistry>();

        Assert.Same(BatpakEventRegistries.Combined, registry);
        Assert.True(registry.TryGetType(EventKind.Create(0x4, 0x001), out Type? type));
        Assert.Equal(typeof(MemberJoined), type);
    }

    [Fact]
    public void AddGate_BuildsAGateSetAndAPipelineOverTheStore()
    {
        using var dir = new TempDirectory();
        var services = new ServiceCollection();
        services.AddBatpak(o => o.DataDirectory = dir.Path)
            .AddGate(Gate.Require<decimal>("positive", amount => amount > 0, "amount.not_positive", "The amount must be positive."))
            .AddGate(Gate.Require<decimal>("small", amount => amount < 1000, "amount.too_large", "The amount must be below 1000."));
        using ServiceProvider provider = services.BuildServiceProvider();

        GateSet<decimal> gates = provider.GetRequiredService<GateSet<decimal>>();
        Pipeline<decimal> pipeline = provider.GetRequiredService<Pipeline<decimal>>();

        Assert.Equal(["positive", "small"], gates.GateNames);
        Assert.Equal(GatePolicy.FailFast, gates.Policy);
        Assert.Same(gates, pipeline.Gates);
        Assert.Same(provider.GetRequiredService<IEventStore>(), pipeline.Store);
        Proposal<CreditGranted> proposal = pipeline.Propose(new CreditGranted("gated", 50m));
        Committed<CreditGranted> committed = pipeline.Commit(pipeline.Evaluate(50m, proposal));
        Assert.Equal(50m, provider.GetRequiredService<IEventStore>().Get<CreditGranted>(committed.EventId).Event.Amount);
        Assert.Single(pipeline.Gates.Check(-5000m)); // fail-fast: one denial
    }

    [Fact]
    public void AddGateSet_SetsPolicyAndName()
    {
        var services = new ServiceCollection();
        services.AddBatpak(o => o.DataDirectory = "/tmp/unused")
            .AddGateSet(GatePolicy.EvaluateAll, "limits",
                Gate.Require<decimal>("positive", amount => amount > 0, "amount.not_positive", "The amount must be positive."),
                Gate.Require<decimal>("whole", amount => decimal.Truncate(amount) == amount, "amount.fraction", "The amount must be whole."));
        using ServiceProvider provider = services.BuildServiceProvider();

        GateSet<decimal> gates = provider.GetRequiredService<GateSet<decimal>>();

        Assert.Equal("limits", gates.Name);
        Assert.Equal(GatePolicy.EvaluateAll, gates.Policy);
        Assert.Equal(2, gates.Check(-1.5m).Count);
    }
}
