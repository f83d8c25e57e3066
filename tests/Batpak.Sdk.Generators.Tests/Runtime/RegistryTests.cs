using MessagePack;

namespace Batpak.Sdk.Generators.Tests.Runtime;

public class RegistryTests
{
    private static readonly IEventTypeRegistry s_assembly = Batpak.Generated.Batpak.Sdk.Generators.Tests.BatpakEventRegistry.Instance;

    [Fact]
    public void Instance_GeneratedRegistry_ListsEveryEventOfTheAssemblyByKind()
    {
        ushort[] kinds = [.. s_assembly.Types.Select(static t => t.Kind.Value)];

        Assert.Equal([0x1001, 0x1002, 0x1003, 0x1004, 0x1005, 0x1006, 0x1007, 0x1008, 0x1009, 0x2001, 0x2002, 0x2003, 0x2004], kinds);
        Assert.True(s_assembly.TryGetInfo(EventKind.Create(0x1, 0x009), out EventTypeInfo? inner));
        Assert.Equal(typeof(Outer.InnerEvent), inner.Type);
        Assert.Equal(3, inner.Version);
    }

    [Fact]
    public void Combined_ModuleInitializer_RegisteredThisAssembly()
    {
        Assert.Contains(s_assembly, BatpakEventRegistries.Registries);
        Assert.True(BatpakEventRegistries.Combined.TryGetType(EventKind.Create(0x1, 0x001), out Type? type));
        Assert.Equal(typeof(OrderPlaced), type);
    }

    [Fact]
    public void TryDeserialize_MixedKindStream_ReturnsTypedEvents()
    {
        object[] events = [new OrderPlaced("o", "t", 1m), new Point(1, 2), new OrderV1("o", 2)];
        (EventKind Kind, byte[] Payload)[] stream =
        [
            (BatpakEvents.KindOf<OrderPlaced>(), BatpakEvents.SerializeToArray((OrderPlaced)events[0])),
            (BatpakEvents.KindOf<Point>(), BatpakEvents.SerializeToArray((Point)events[1])),
            (BatpakEvents.KindOf<OrderV1>(), BatpakEvents.SerializeToArray((OrderV1)events[2])),
        ];

        var read = new List<object>();
        foreach ((EventKind kind, byte[] payload) in stream)
        {
            Assert.True(BatpakEventRegistries.Combined.TryDeserialize(kind, payload, out object? value));
            read.Add(value);
        }

        Assert.Equal(events, read);
        Assert.IsType<Point>(read[1]);
    }

    [Fact]
    public void TryDeserialize_UnknownKind_ReturnsFalse()
    {
        Assert.False(BatpakEventRegistries.Combined.TryDeserialize(EventKind.Create(0xF, 0xFFF), new byte[] { 0x90 }, out object? value));
        Assert.Null(value);
        Assert.False(s_assembly.TryGetType(EventKind.Create(0xF, 0xFFF), out _));
    }

    [Fact]
    public void TryDeserialize_MalformedPayload_ThrowsSerializationException()
    {
        Assert.Throws<MessagePackSerializationException>(() =>
            BatpakEventRegistries.Combined.TryDeserialize(BatpakEvents.KindOf<OrderV1>(), new byte[] { 0xC1 }, out _));
    }

    [Fact]
    public void Register_SameRegistryTwice_IsIgnored()
    {
        int before = BatpakEventRegistries.Registries.Count;

        BatpakEventRegistries.Register(s_assembly);

        Assert.Equal(before, BatpakEventRegistries.Registries.Count);
    }

    [Fact]
    public void Combined_KindClaimedByTwoAssembliesForDifferentTypes_ThrowsOnLookup()
    {
        var rogue = new EventTypeRegistry([new EventTypeInfo(EventKind.Create(0xF, 0x0AB), typeof(string), 1, static _ => "a")]);
        var rival = new EventTypeRegistry([new EventTypeInfo(EventKind.Create(0xF, 0x0AB), typeof(int), 1, static _ => 1)]);
        BatpakEventRegistries.Register(rogue);
        BatpakEventRegistries.Register(rival);

        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() =>
            BatpakEventRegistries.Combined.TryGetType(EventKind.Create(0xF, 0x0AB), out _));
        Assert.Contains("0xF0AB", error.Message, StringComparison.Ordinal);
        Assert.True(BatpakEventRegistries.Combined.TryGetType(EventKind.Create(0x1, 0x001), out _));
    }

    [Fact]
    public void Constructor_DuplicateKind_ThrowsArgumentException()
    {
        EventTypeInfo a = new(EventKind.Create(0xE, 1), typeof(string), 1, static _ => "a");
        EventTypeInfo b = new(EventKind.Create(0xE, 1), typeof(int), 1, static _ => 1);

        Assert.Throws<ArgumentException>(() => new EventTypeRegistry([a, b]));
    }

    [Fact]
    public void EventTypeInfo_NullArguments_Throw()
    {
        Assert.Throws<ArgumentNullException>(() => new EventTypeInfo(EventKind.Create(0xE, 2), null!, 1, static _ => "a"));
        Assert.Throws<ArgumentNullException>(() => new EventTypeInfo(EventKind.Create(0xE, 2), typeof(string), 1, null!));
    }

    [Fact]
    public void EventTypeInfo_ToString_NamesKindTypeAndVersion()
    {
        Assert.True(s_assembly.TryGetInfo(BatpakEvents.KindOf<OrderV2>(), out EventTypeInfo? info));

        Assert.Equal("0x2002 Batpak.Sdk.Generators.Tests.Runtime.OrderV2 v2", info.ToString());
    }
}
