using System.Text;

namespace Batpak.Tests.Store;

public class EventStoreBasicsTests
{
    [Fact]
    public void Append_ThenGet_ReturnsSameEvent()
    {
        using var dir = new TempDirectory();
        using EventStore store = TestEvents.Open(dir.Path);
        var coordinate = new Coordinate("order:1", "tenant:a");

        AppendReceipt receipt = store.Append(coordinate, TestEvents.Created, TestEvents.Payload(1));
        StoredEvent read = store.Get(receipt.EventId);

        Assert.Equal(coordinate, read.Coordinate);
        Assert.Equal(TestEvents.Created, read.Kind);
        Assert.Equal("payload-1", Encoding.UTF8.GetString(read.Payload.Span));
        Assert.Equal(0, read.Header.GlobalSequence);
        Assert.Equal(0, read.Header.Position.Sequence);
        Assert.Equal(receipt.Hash, read.Header.Hash);
        Assert.True(read.Header.PrevHash.IsZero);
        Assert.Equal(read.Header.EventId, read.Header.CorrelationId);
        Assert.Null(read.Header.CausationId);
    }
}
