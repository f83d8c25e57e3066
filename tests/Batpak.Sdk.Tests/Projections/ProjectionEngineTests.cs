namespace Batpak.Tests.Projections;

public class ProjectionEngineTests
{
    private const string Entity = "counter:c1";

    private static readonly DateTimeOffset s_start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static void Increment(IEventStore store, int by, string id = "c1") => store.Append(new CounterIncremented(id, by));

    [Fact]
    public void Project_Consistent_SeesAppendMadeJustBefore()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        var engine = new ProjectionEngine(store, new InMemoryProjectionCache());
        long expected = 0;
        for (int i = 1; i <= 50; i++)
        {
            Increment(store, i);
            expected += i;
            Assert.Equal(expected, engine.Project<CounterState>(Entity, Freshness.Consistent).Total);
        }

        Assert.Equal(50, engine.Project<CounterState>(Entity).Events);
    }

    [Fact]
    public void Project_EntityWithoutEvents_ReturnsInitial()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        var engine = new ProjectionEngine(store, new InMemoryProjectionCache());

        Assert.Equal(CounterState.Initial, engine.Project<CounterState>("counter:none"));
    }

    [Fact]
    public void Project_InMemoryCache_FoldsOnlyNewerEvents()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        var cache = new InMemoryProjectionCache();
        var engine = new ProjectionEngine(store, cache);
        for (int i = 0; i < 10; i++)
        {
            Increment(store, 1);
        }

        CounterState first = engine.Project<CounterState>(Entity);
        Assert.Equal(10, first.ApplyCalls);
        Assert.Same(first, engine.Project<CounterState>(Entity)); // current: no fold, no copy

        Increment(store, 5);
        CounterState second = engine.Project<CounterState>(Entity);
        Assert.Equal(15, second.Total);
        Assert.Equal(11, second.ApplyCalls); // one more Apply, not eleven
        Assert.True(cache.TryGet(Entity, out CachedProjection<CounterState>? cached));
        Assert.Equal(10, cached.Watermark);
        Assert.Equal(CounterState.SchemaVersion, cached.SchemaVersion);
    }

    [Fact]
    public void Project_NoCache_FoldsEverythingEveryTime()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        var engine = new ProjectionEngine(store);
        Increment(store, 2);
        Increment(store, 3);

        Assert.Same(NoProjectionCache.Instance, engine.Cache);
        Assert.Equal(2, engine.Project<CounterState>(Entity).ApplyCalls);
        Assert.Equal(2, engine.Project<CounterState>(Entity).ApplyCalls);
        Assert.Equal(5, engine.Project<CounterState>(Entity).Total);
    }

    [Fact]
    public void Project_MaybeStale_ReturnsCachedStateWithinMaxAge_AndRefreshesAfter()
    {
        using var dir = new TempDirectory();
        var clock = new ManualTimeProvider(s_start);
        using EventStore store = TestEvents.Open(dir.Path);
        var engine = new ProjectionEngine(store, new InMemoryProjectionCache(), clock);
        Freshness oneMinute = Freshness.MaybeStale(TimeSpan.FromMinutes(1));
        Increment(store, 1);
        Assert.Equal(1, engine.Project<CounterState>(Entity, oneMinute).Total); // nothing cached: folded

        Increment(store, 10);
        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(1, engine.Project<CounterState>(Entity, oneMinute).Total); // cached, 30 s old: accepted
        Assert.Equal(11, engine.Project<CounterState>(Entity, Freshness.Consistent).Total); // consistent never is stale

        Increment(store, 100);
        clock.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(11, engine.Project<CounterState>(Entity, oneMinute).Total); // refreshed by the consistent call 59 s ago

        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(111, engine.Project<CounterState>(Entity, oneMinute).Total); // 61 s: too old, brought up to date
        Assert.Equal(111, engine.Project<CounterState>(Entity, Freshness.MaybeStale(TimeSpan.Zero)).Total);
    }

    [Fact]
    public void Project_DiskCache_SurvivesRestart_AndFoldsOnlyNewerEvents()
    {
        using var dir = new TempDirectory();
        string data = dir.Combine("data");
        using (EventStore store = TestEvents.Open(data))
        {
            var engine = new ProjectionEngine(store, DiskProjectionCache.ForStore(store));
            for (int i = 1; i <= 5; i++)
            {
                Increment(store, i);
            }

            CounterState state = engine.Project<CounterState>(Entity);
            Assert.Equal(15, state.Total);
            Assert.Equal(5, state.ApplyCalls);
            Assert.True(File.Exists(((DiskProjectionCache)engine.Cache).GetPath<CounterState>(Entity)));
        }

        using (EventStore reopened = TestEvents.Open(data))
        {
            var engine = new ProjectionEngine(reopened, DiskProjectionCache.ForStore(reopened));
            CounterState fromCache = engine.Project<CounterState>(Entity);
            Assert.Equal(15, fromCache.Total);
            Assert.Equal(5, fromCache.Events);
            Assert.Equal(0, fromCache.ApplyCalls); // read back from the file, nothing folded

            Increment(reopened, 100);
            Increment(reopened, 200);
            CounterState folded = engine.Project<CounterState>(Entity);
            Assert.Equal(315, folded.Total);
            Assert.Equal(7, folded.Events);
            Assert.Equal(2, folded.ApplyCalls); // only the two newer events
        }

        using EventStore third = TestEvents.Open(data);
        var noMemory = new ProjectionEngine(third, new DiskProjectionCache(Path.Combine(data, "projections"), memoryCapacity: 0));
        CounterState again = noMemory.Project<CounterState>(Entity);
        Assert.Equal(315, again.Total);
        Assert.Equal(0, again.ApplyCalls);
    }

    [Fact]
    public void Project_SchemaVersionChanged_DiscardsDiskCacheAndRefolds()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Combine("data"));
        string folder = dir.Combine("projections");
        for (int i = 1; i <= 4; i++)
        {
            Increment(store, i);
        }

        var v1 = new ProjectionEngine(store, new DiskProjectionCache(folder, memoryCapacity: 0));
        Assert.Equal(10, v1.Project<CounterState>(Entity).Total);
        Assert.Equal(0, v1.Project<CounterState>(Entity).ApplyCalls); // cached on disk
        var cache = new DiskProjectionCache(folder, memoryCapacity: 0);
        Assert.Equal(cache.GetPath<CounterState>(Entity), cache.GetPath<CounterStateV2>(Entity)); // same name: the same file

        // The v2 reader asserts it never sees the v1 layout: the file must be discarded unread.
        var v2 = new ProjectionEngine(store, cache);
        CounterStateV2 state = v2.Project<CounterStateV2>(Entity);
        Assert.Equal(10, state.Total);
        Assert.Equal(4, state.Max);
        Assert.Equal(4, state.ApplyCalls); // refolded from the first event
        Assert.Equal(0, v2.Project<CounterStateV2>(Entity).ApplyCalls); // and cached under v2

        // Going back to v1 discards the v2 file in turn.
        Assert.Equal(4, v1.Project<CounterState>(Entity).ApplyCalls);
    }

    [Fact]
    public void Project_CustomCacheReturnsOtherSchemaVersion_EngineDiscardsIt()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        Increment(store, 7);
        var cache = new InMemoryProjectionCache();
        var engine = new ProjectionEngine(store, cache);
        EventId last = store.Stream(Entity).Last().Id;
        cache.Set(Entity, new CachedProjection<CounterState>(new CounterState(999, 1), 0, last, SchemaVersion: 0, s_start));

        CounterState state = engine.Project<CounterState>(Entity);

        Assert.Equal(7, state.Total);
        Assert.Equal(1, state.ApplyCalls);
    }

    [Fact]
    public void Project_CacheAheadOfStore_IsDiscarded()
    {
        using var dir = new TempDirectory();
        string folder = dir.Combine("projections");
        using (EventStore store = TestEvents.Open(dir.Combine("live")))
        {
            for (int i = 1; i <= 3; i++)
            {
                Increment(store, i);
            }

            store.Snapshot(dir.Combine("backup")); // 3 events
            Increment(store, 10);
            Increment(store, 20);
            var engine = new ProjectionEngine(store, new DiskProjectionCache(folder));
            Assert.Equal(36, engine.Project<CounterState>(Entity).Total); // watermark 4 on disk
        }

        // Restore the older backup next to the same cache: the cache is ahead of the store.
        using EventStore restored = TestEvents.Open(dir.Combine("backup"));
        Assert.Equal(2, restored.GetLastSequence(Entity));
        var cache = new DiskProjectionCache(folder);
        Assert.True(cache.TryGet(Entity, out CachedProjection<CounterState>? stale));
        Assert.Equal(4, stale.Watermark);

        CounterState state = new ProjectionEngine(restored, cache).Project<CounterState>(Entity);

        Assert.Equal(6, state.Total);
        Assert.Equal(3, state.ApplyCalls);
        Assert.True(cache.TryGet(Entity, out CachedProjection<CounterState>? fresh));
        Assert.Equal(2, fresh.Watermark);
    }

    [Fact]
    public void Project_CacheOfAnotherHistoryAtSameWatermark_IsDiscarded()
    {
        using var dir = new TempDirectory();
        string folder = dir.Combine("projections");
        using (EventStore store = TestEvents.Open(dir.Combine("live")))
        {
            Increment(store, 1);
            store.Snapshot(dir.Combine("backup"));
            Increment(store, 10);
            Assert.Equal(11, new ProjectionEngine(store, new DiskProjectionCache(folder)).Project<CounterState>(Entity).Total);
        }

        // The restored store grows a different second event: same watermark (1), different event.
        using EventStore restored = TestEvents.Open(dir.Combine("backup"));
        Increment(restored, 500);
        CounterState state = new ProjectionEngine(restored, new DiskProjectionCache(folder)).Project<CounterState>(Entity);

        Assert.Equal(501, state.Total);
        Assert.Equal(2, state.ApplyCalls);
    }

    [Fact]
    public void Project_DamagedDiskCacheFile_IsAMissAndIsRewritten()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Combine("data"));
        Increment(store, 3);
        var cache = new DiskProjectionCache(dir.Combine("projections"), memoryCapacity: 0);
        var engine = new ProjectionEngine(store, cache);
        engine.Project<CounterState>(Entity);
        string path = cache.GetPath<CounterState>(Entity);
        byte[] bytes = File.ReadAllBytes(path);
        bytes[^1] ^= 0xFF; // breaks the CRC
        File.WriteAllBytes(path, bytes);

        CounterState state = engine.Project<CounterState>(Entity);

        Assert.Equal(3, state.Total);
        Assert.Equal(1, state.ApplyCalls);
        Assert.Equal(0, engine.Project<CounterState>(Entity).ApplyCalls); // rewritten
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!, "*.tmp"));
    }

    [Fact]
    public void Project_EventOfAnUnknownKind_IsCountedButChangesNothing_AndOtherEntitiesAreNotFolded()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        Increment(store, 2);
        Increment(store, 40, id: "other");
        store.Append(new Coordinate(Entity, "default"), TestEvents.Created, TestEvents.Payload(1)); // no registry knows it
        store.Append(new CounterReset("c1"));
        Increment(store, 5);
        var engine = new ProjectionEngine(store, new InMemoryProjectionCache());

        CounterState state = engine.Project<CounterState>(Entity);

        Assert.Equal(5, state.Total);
        Assert.Equal(4, state.Events);
        Assert.Equal(40, engine.Project<CounterState>("counter:other").Total);
    }

    [Fact]
    public void Project_StoreExtension_UsesSharedInMemoryEngine()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        Increment(store, 4);
        Assert.Equal(1, store.Project<CounterState>(Entity).ApplyCalls);
        Increment(store, 6);

        CounterState state = store.Project<CounterState>(Entity, Freshness.Consistent);

        Assert.Equal(10, state.Total);
        Assert.Equal(2, state.ApplyCalls); // incremental: the cached state plus one Apply
        Assert.Equal(10, store.Project<CounterState>(Entity, Freshness.MaybeStale(TimeSpan.FromHours(1))).Total);
    }

    [Fact]
    public async Task Project_ThreeReadersWhileAppending_EachStateHoldsEveryEventAppendedBeforeTheCall_AndNeverGoesBack()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        var engine = new ProjectionEngine(store, new DiskProjectionCache(dir.Combine("projections")));
        Task writer = Task.Run(() =>
        {
            for (int i = 0; i < 200; i++)
            {
                Increment(store, 1);
            }
        });
        Task[] readers = Enumerable.Range(0, 3).Select(_ => Task.Run(() =>
        {
            long previous = 0;
            while (!writer.IsCompleted)
            {
                long appendedBefore = store.GetLastSequence(Entity) + 1;
                CounterState state = engine.Project<CounterState>(Entity);
                Assert.Equal(state.Events, state.Total); // every event adds 1: a torn fold would differ
                Assert.True(state.Events >= appendedBefore, $"the state folds {state.Events} events; {appendedBefore} were appended before the call");
                Assert.True(state.Total >= previous);
                previous = state.Total;
            }
        })).ToArray();
        await Task.WhenAll([writer, .. readers]);

        Assert.Equal(200, engine.Project<CounterState>(Entity).Total);
    }

    [Fact]
    public void Project_InvalidEntity_Throws()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        var engine = new ProjectionEngine(store);

        Assert.Throws<ArgumentException>(() => engine.Project<CounterState>(""));
        Assert.Throws<ArgumentNullException>(() => new ProjectionEngine(null!));
    }

    [Fact]
    public void Invalidate_ForgetsCachedState()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        var engine = new ProjectionEngine(store, new InMemoryProjectionCache());
        Increment(store, 1);
        engine.Project<CounterState>(Entity);

        engine.Invalidate<CounterState>(Entity);

        Assert.False(engine.Cache.TryGet(Entity, out CachedProjection<CounterState>? _));
        Assert.Equal(1, engine.Project<CounterState>(Entity).ApplyCalls);
    }
}

public class FreshnessTests
{
    [Fact]
    public void Default_IsConsistent()
    {
        Assert.True(default(Freshness).IsConsistent);
        Assert.Equal(Freshness.Consistent, default);
        Assert.True(Freshness.MaybeStale(TimeSpan.Zero).IsConsistent);
        Assert.Equal("Consistent", Freshness.Consistent.ToString());
    }

    [Fact]
    public void MaybeStale_KeepsMaxAge_AndRejectsNegative()
    {
        Freshness f = Freshness.MaybeStale(TimeSpan.FromSeconds(5));
        Assert.False(f.IsConsistent);
        Assert.Equal(TimeSpan.FromSeconds(5), f.MaxAge);
        Assert.Throws<ArgumentOutOfRangeException>(() => Freshness.MaybeStale(TimeSpan.FromTicks(-1)));
    }
}

public class ProjectionCacheTests
{
    private static CachedProjection<CounterState> Entry(long total) =>
        new(new CounterState(total, 1), 0, EventId.Empty, 1, DateTimeOffset.UnixEpoch);

    [Fact]
    public void InMemory_Bounded_EvictsLeastRecentlyUsed()
    {
        var cache = new InMemoryProjectionCache(capacity: 2);
        cache.Set("counter:a", Entry(1));
        cache.Set("counter:b", Entry(2));
        Assert.True(cache.TryGet("counter:a", out CachedProjection<CounterState>? _)); // a is now most recent

        cache.Set("counter:c", Entry(3));

        Assert.Equal(2, cache.Count);
        Assert.True(cache.TryGet("counter:a", out CachedProjection<CounterState>? _));
        Assert.False(cache.TryGet("counter:b", out CachedProjection<CounterState>? _));
        Assert.True(cache.TryGet("counter:c", out CachedProjection<CounterState>? c));
        Assert.Equal(3, c.State.Total);
        cache.Clear();
        Assert.Equal(0, cache.Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => new InMemoryProjectionCache(0));
    }

    [Fact]
    public void InMemory_KeysByProjectionType()
    {
        var cache = new InMemoryProjectionCache();
        cache.Set("counter:a", Entry(1));

        Assert.False(cache.TryGet("counter:a", out CachedProjection<CounterStateV2>? _));
        cache.Remove<CounterState>("counter:a");
        Assert.False(cache.TryGet("counter:a", out CachedProjection<CounterState>? _));
    }

    [Fact]
    public async Task InMemory_ConcurrentUse_StaysWithinCapacity()
    {
        var cache = new InMemoryProjectionCache(capacity: 64);
        await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            for (int i = 0; i < 2000; i++)
            {
                string entity = $"counter:{(i * 7 + t) % 200}";
                cache.Set(entity, Entry(i));
                cache.TryGet(entity, out CachedProjection<CounterState>? _);
                if (i % 5 == 0)
                {
                    cache.Remove<CounterState>(entity);
                }
            }
        })));

        Assert.InRange(cache.Count, 0, 64);
    }

    [Fact]
    public void Disk_RoundTripsEveryField_AndNamesFilesSafely()
    {
        using var dir = new TempDirectory();
        var cache = new DiskProjectionCache(dir.Path, memoryCapacity: 0);
        string entity = "Order:ÄÖ/../" + new string('x', 240);
        var id = EventId.Parse("0190a4f2-5e4b-7c1d-8e2f-0123456789ab");
        var entry = new CachedProjection<CounterState>(new CounterState(42, 7), 6, id, 1, new DateTimeOffset(2026, 5, 1, 12, 0, 0, TimeSpan.Zero));

        cache.Set(entity, entry);

        string path = cache.GetPath<CounterState>(entity);
        Assert.StartsWith(dir.Path, path, StringComparison.Ordinal);
        Assert.True(Path.GetFileName(path).Length < 100);
        Assert.True(cache.TryGet(entity, out CachedProjection<CounterState>? read));
        Assert.Equal(entry, read);
        Assert.NotEqual(path, cache.GetPath<CounterState>("order:ÄÖ/../" + new string('x', 240))); // case matters, exactly
        Assert.False(cache.TryGet("order:other", out CachedProjection<CounterState>? _));

        cache.Remove<CounterState>(entity);
        Assert.False(File.Exists(path));
        Assert.False(cache.TryGet(entity, out CachedProjection<CounterState>? _));
    }

    [Fact]
    public void Disk_ForeignFileUnderTheSameName_IsAMiss()
    {
        using var dir = new TempDirectory();
        var cache = new DiskProjectionCache(dir.Path, memoryCapacity: 0);
        cache.Set("counter:a", Entry(1));
        File.Copy(cache.GetPath<CounterState>("counter:a"), cache.GetPath<CounterState>("counter:b"));

        Assert.False(cache.TryGet("counter:b", out CachedProjection<CounterState>? _));
        Assert.False(File.Exists(cache.GetPath<CounterState>("counter:b")));
        Assert.True(cache.TryGet("counter:a", out CachedProjection<CounterState>? _));
    }

    [Fact]
    public void NoCache_KeepsNothing()
    {
        NoProjectionCache cache = NoProjectionCache.Instance;
        cache.Set("counter:a", Entry(1));
        Assert.False(cache.TryGet("counter:a", out CachedProjection<CounterState>? _));
        cache.Remove<CounterState>("counter:a");
    }
}
