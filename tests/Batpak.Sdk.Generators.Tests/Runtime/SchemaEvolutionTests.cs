using MessagePack;

namespace Batpak.Sdk.Generators.Tests.Runtime;

public class SchemaEvolutionTests
{
    [Fact]
    public void Deserialize_OlderShapeWithFewerMembers_FillsParameterAndInitializerDefaults()
    {
        byte[] old = BatpakEvents.SerializeToArray(new OrderV1("o-1", 3));

        OrderV2 current = BatpakEvents.Deserialize<OrderV2>(old);

        Assert.Equal("o-1", current.Id);
        Assert.Equal(3, current.Quantity);
        Assert.Equal("none", current.Note);
        Assert.Equal(1.5m, current.Discount);
        Assert.Equal(3, current.Priority);
    }

    [Fact]
    public void Deserialize_NewerShapeWithMoreMembers_SkipsUnknownTrailingMembers()
    {
        byte[] newer = BatpakEvents.SerializeToArray(new OrderV2("o-2", 5, "rush", 0m) { Priority = 9 });

        OrderV1 old = BatpakEvents.Deserialize<OrderV1>(newer);

        Assert.Equal(new OrderV1("o-2", 5), old);
    }

    [Fact]
    public void Deserialize_TrailingUnknownNestedValues_SkipsThemIteratively()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(4);
        writer.Write("o-3");
        writer.Write(8);
        writer.WriteMapHeader(1);
        writer.Write("k");
        writer.WriteArrayHeader(2);
        writer.Write(1);
        writer.WriteNil();
        writer.WriteArrayHeader(0);
        writer.Flush();

        OrderV1 read = BatpakEvents.Deserialize<OrderV1>(buffer.WrittenMemory);

        Assert.Equal(new OrderV1("o-3", 8), read);
    }

    [Fact]
    public void Deserialize_EmptyArray_GivesAllDefaults()
    {
        OrderV2 read = BatpakEvents.Deserialize<OrderV2>(new byte[] { 0x90 });

        Assert.Null(read.Id);
        Assert.Equal(0, read.Quantity);
        Assert.Equal("none", read.Note);
        Assert.Equal(3, read.Priority);
    }

    [Fact]
    public void Deserialize_BodyPropertyMissing_KeepsInitializer()
    {
        byte[] onlyId = [0x91, 0xA1, (byte)'b'];

        BodyOnly read = BatpakEvents.Deserialize<BodyOnly>(onlyId);

        Assert.Equal("b", read.Id);
        Assert.Equal(42, read.Count);
    }
}
