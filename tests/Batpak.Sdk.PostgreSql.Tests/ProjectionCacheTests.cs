// PostgresProjectionCache: states in the store's projection_cache table, shared by every instance on the schema,
// used by ProjectionEngine.
using MessagePack;

namespace Batpak.PostgreSql.Tests;

public sealed class ProjectionCacheTests : IDisposable
{
    private readonly string _schema = PgServer.NewSchema();
    private readonly List<IEventStore> _stores = [];

    [SkippableFact]
    public void ProjectionEngine_WithTheTableCache_StoresTheState_WhichAnotherInstanceReads_AndRemoveForgetsIt()
    {
        PgServer.Require();
        PostgresEventStore a = Open();
        PostgresEventStore b = Open();
        for (int i = 0; i < 5; i++)
        {
            a.Append(TestData.Entity("p:1"), TestData.Created, TestData.Payload(i));
        }

        var engine = new ProjectionEngine(a, new PostgresProjectionCache(a));
        Assert.Equal(5, engine.Project<CountState>("p:1").Count);

        var other = new PostgresProjectionCache(b);
        Assert.True(other.TryGet("p:1", out CachedProjection<CountState>? cached));
        Assert.Equal(5, cached.State.Count);
        Assert.Equal(4, cached.Watermark);
        Assert.Equal(a.Stream("p:1").Last().Id, cached.LastEventId);
        Assert.Equal(CountState.SchemaVersion, cached.SchemaVersion);

        other.Remove<CountState>("p:1");
        Assert.False(new PostgresProjectionCache(a).TryGet("p:1", out CachedProjection<CountState>? _));
        Assert.False(other.TryGet("p:unknown", out CachedProjection<CountState>? _));
    }

    private PostgresEventStore Open()
    {
        PostgresEventStore store = PostgresEventStore.Open(TestStores.Options(_schema));
        _stores.Add(store);
        return store;
    }

    public void Dispose()
    {
        foreach (IEventStore store in _stores)
        {
            store.Dispose();
        }

        TestStores.DropSchema(_schema);
    }
}

/// <summary>Counts an entity's events.</summary>
public sealed record CountState(int Count) : IProjection<CountState>
{
    public static CountState Initial { get; } = new(0);

    public static int SchemaVersion => 3;

    public CountState Apply(TypedEvent e) => this with { Count = Count + 1 };

    public static void Serialize(ref MessagePackWriter writer, CountState value) => writer.Write(value.Count);

    public static CountState Deserialize(ref MessagePackReader reader) => new(reader.ReadInt32());
}
