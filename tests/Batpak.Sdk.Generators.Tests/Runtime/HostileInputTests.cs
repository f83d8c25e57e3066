using System.Diagnostics;
using MessagePack;

namespace Batpak.Sdk.Generators.Tests.Runtime;

public class HostileInputTests
{
    private static void AssertRejects<T>(byte[] payload)
        where T : IBatpakEvent<T>
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<MessagePackSerializationException>(() => BatpakEvents.Deserialize<T>(payload));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 64 * 1024 + (16L * payload.Length), $"rejecting {payload.Length} bytes allocated {allocated} bytes");
    }

    private static readonly byte[] s_guid = [0xC4, 0x10, .. new byte[16]];

    public static TheoryData<string, byte[]> OrderCases => new()
    {
        { "array32 claiming 2^32-1 members", [0xDD, 0xFF, 0xFF, 0xFF, 0xFF] },
        { "str32 claiming 4 GiB", [0x92, 0xDB, 0xFF, 0xFF, 0xFF, 0xFF, 0x41] },
        { "trailing bytes", [0x90, 0x00] },
        { "nil event", [0xC0] },
        { "not an array", [0x2A] },
        { "truncated string", [0x93, 0xA3, 0x41] },
        { "wrong member type", [0x92, 0xA1, 0x41, 0xA1, 0x41] },
        { "int overflowing the member", [0x92, 0xA1, 0x41, 0xCF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF] },
        { "reserved type code", [0x92, 0xA1, 0x41, 0xC1] },
    };

    public static TheoryData<string, byte[]> CollectionCases => new()
    {
        { "int array claiming 2^31-1 elements", [0x92, 0x01, 0xDD, 0x7F, 0xFF, 0xFF, 0xFF, 0x01] },
        { "map32 claiming 2^31-1 entries", [0x95, 0x01, 0x90, 0x90, 0x90, 0xDF, 0x7F, 0xFF, 0xFF, 0xFF] },
        { "duplicate map key", [0x95, 0x01, 0x90, 0x90, 0x90, 0x82, 0xA1, 0x78, 0x01, 0xA1, 0x78, 0x02] },
        { "nil map key", [0x95, 0x01, 0x90, 0x90, 0x90, 0x81, 0xC0, 0x01] },
    };

    public static TheoryData<string, byte[]> BlobCases => new()
    {
        { "bin32 claiming 4 GiB", [0x92, 0xA1, 0x61, 0xC6, 0xFF, 0xFF, 0xFF, 0xFF] },
        { "decimal that does not parse", [0x93, 0xA1, 0x61, 0xC0, 0xA2, 0x31, 0x78] },
        { "decimal string of 100 bytes", [0x93, 0xA1, 0x61, 0xC0, 0xD9, 100, .. Enumerable.Repeat((byte)'1', 100)] },
        { "nil decimal", [0x93, 0xA1, 0x61, 0xC0, 0xC0] },
        { "guid of 3 bytes", [0x94, 0xA1, 0x61, 0xC0, 0xA1, 0x31, 0xC4, 0x03, 1, 2, 3] },
        { "DateTime with kind 3", [0x95, 0xA1, 0x61, 0xC0, 0xA1, 0x31, .. s_guid, 0xD3, 0xC0, 0, 0, 0, 0, 0, 0, 0] },
        { "DateTime beyond MaxValue", [0x95, 0xA1, 0x61, 0xC0, 0xA1, 0x31, .. s_guid, 0xD3, 0x3F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF] },
        { "DateTimeOffset offset of 2000 minutes", [0x96, 0xA1, 0x61, 0xC0, 0xA1, 0x31, .. s_guid, 0x00, 0x92, 0x00, 0xCD, 0x07, 0xD0] },
        { "DateTimeOffset with three parts", [0x96, 0xA1, 0x61, 0xC0, 0xA1, 0x31, .. s_guid, 0x00, 0x93, 0x00, 0x00, 0x00] },
    };

    [Theory]
    [MemberData(nameof(OrderCases))]
    public void Deserialize_CraftedOrderPayload_ThrowsSerializationException(string name, byte[] payload)
    {
        Assert.NotEmpty(name);
        AssertRejects<OrderV1>(payload);
    }

    [Theory]
    [MemberData(nameof(CollectionCases))]
    public void Deserialize_CraftedCollectionPayload_ThrowsWithoutLargeAllocation(string name, byte[] payload)
    {
        Assert.NotEmpty(name);
        AssertRejects<AllCollections>(payload);
    }

    [Theory]
    [MemberData(nameof(BlobCases))]
    public void Deserialize_CraftedBclValue_ThrowsSerializationException(string name, byte[] payload)
    {
        Assert.NotEmpty(name);
        AssertRejects<Blob>(payload);
    }

    [Fact]
    public void Deserialize_ValidBlobPrefix_Reads()
    {
        // The crafted cases above differ from this valid payload only in the member they break.
        Blob blob = BatpakEvents.Deserialize<Blob>((byte[])[0x96, 0xA1, 0x61, 0xC0, 0xA1, 0x31, .. s_guid, 0x00, 0x92, 0xD3, 0x08, 0xC1, 0x22, 0x02, 0x47, 0xE4, 0x40, 0x00, 0xCD, 0x02, 0x1C]);

        Assert.Equal(1m, blob.Amount);
        Assert.Equal(Guid.Empty, blob.Key);
        Assert.Equal(new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.FromMinutes(540)), blob.AtOffset);
        Assert.Equal(TimeSpan.FromMinutes(540), blob.AtOffset.Offset);
    }

    [Fact]
    public void Deserialize_ArrayElementsClaimedBeyondPayload_Throws()
    {
        // AllCollections with Ints = array32 claiming 2^31-1 elements.
        AssertRejects<AllCollections>([0x92, 0x01, 0xDD, 0x7F, 0xFF, 0xFF, 0xFF, 0x01]);
    }

    [Fact]
    public void Deserialize_DeeplyNestedUnknownMember_ThrowsInsteadOfOverflowingTheStack()
    {
        // OrderV1 with a third (unknown) member nested one million arrays deep.
        byte[] payload = new byte[3 + 1_000_000];
        payload[0] = 0x93;
        payload[1] = 0xC0;
        payload[2] = 0x01;
        Array.Fill(payload, (byte)0x91, 3, 1_000_000);

        var watch = Stopwatch.StartNew();
        Assert.Throws<MessagePackSerializationException>(() => BatpakEvents.Deserialize<OrderV1>(payload));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
    }

    [Fact]
    public void Deserialize_RecursiveEventNestedBeyondMaxDepth_Throws()
    {
        // Node(1, Node(1, Node(...))) deeper than MaxDepth.
        int depth = BatpakFormatterHelpers.MaxDepth + 10;
        var bytes = new List<byte>();
        for (int i = 0; i < depth; i++)
        {
            bytes.AddRange([0x92, 0x01]);
        }

        bytes.Add(0x90);

        Assert.Throws<MessagePackSerializationException>(() => BatpakEvents.Deserialize<Node>(bytes.ToArray()));
    }

    [Fact]
    public void Deserialize_RecursiveEventWithinMaxDepth_Reads()
    {
        Node chain = new(0, null);
        for (int i = 1; i < 100; i++)
        {
            chain = new Node(i, chain);
        }

        Node back = BatpakEvents.Deserialize<Node>(BatpakEvents.SerializeToArray(chain));

        Assert.Equal(chain, back);
    }

    [Fact]
    public void Deserialize_RandomBytes_ThrowOrDecodeQuickly()
    {
        var random = new Random(20241125);
        var watch = Stopwatch.StartNew();
        int rejected = 0;
        for (int i = 0; i < 20_000; i++)
        {
            byte[] payload = new byte[random.Next(0, 96)];
            random.NextBytes(payload);
            if (i % 2 == 0 && payload.Length > 0)
            {
                payload[0] = (byte)(0x90 | (payload[0] & 0x0F)); // make most of them start as an array
            }

            rejected += Attempt<AllScalars>(payload) + Attempt<AllCollections>(payload) + Attempt<Shipment>(payload) + Attempt<OrderV2>(payload);
        }

        Assert.True(rejected > 70_000, $"only {rejected} of 80000 random payloads were rejected");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"took {watch.Elapsed}");
    }

    private static int Attempt<T>(byte[] payload)
        where T : IBatpakEvent<T>
    {
        try
        {
            BatpakEvents.Deserialize<T>(payload);
            return 0;
        }
        catch (MessagePackSerializationException)
        {
            return 1;
        }
    }
}
