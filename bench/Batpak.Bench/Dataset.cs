using System.Buffers.Binary;
using System.Globalization;

namespace Batpak.Bench;

/// <summary>
/// The events every engine writes: generated once, deterministically from a seed, before any timing starts.
/// </summary>
/// <remarks>
/// Event <c>i</c> belongs to entity <see cref="EntityOf"/>[i] (random, so streams have uneven lengths), whose scope is
/// <c>entity % scopes</c>; it has a kind from <see cref="KindValues"/>, the per-entity sequence <see cref="SequenceOf"/>[i]
/// (what a CAS-free append would assign, used by the peers' <c>(entity, seq)</c> key), a 16-byte id for the peers
/// (Batpak assigns its own UUIDv7 ids) and a ~200-byte MessagePack payload: a 4-entry map
/// <c>{"a": amount u32, "e": entity u32, "s": seq u32, "n": str8 filler}</c>. The fold (W7) sums <c>a</c>.
/// </remarks>
internal sealed class Dataset
{
    public const int KindCount = 8;

    private Dataset(int count, int entityCount, int scopeCount)
    {
        Count = count;
        EntityCount = entityCount;
        ScopeCount = scopeCount;
        Entities = new string[entityCount];
        Scopes = new string[scopeCount];
        EntityOf = new int[count];
        SequenceOf = new int[count];
        KindOf = new int[count];
        Payloads = new byte[count][];
        PayloadLengths = new int[count];
        PeerIds = new Guid[count];
        EventsPerEntity = new int[entityCount];
        EventsPerScope = new long[scopeCount];
        EventsPerKind = new long[KindCount];
        SumPerEntity = new long[entityCount];
    }

    public int Count { get; }

    public int EntityCount { get; }

    public int ScopeCount { get; }

    public string[] Entities { get; }

    public string[] Scopes { get; }

    /// <summary>The eight event kinds (category 0x1, types 1..8).</summary>
    public static ushort[] KindValues { get; } = Enumerable.Range(1, KindCount).Select(t => EventKind.Create(0x1, (ushort)t).Value).ToArray();

    public int[] EntityOf { get; }

    public int[] SequenceOf { get; }

    /// <summary>Index into <see cref="KindValues"/>.</summary>
    public int[] KindOf { get; }

    public byte[][] Payloads { get; }

    /// <summary>
    /// <c>Payloads[i].Length</c>, for the point-read check: one look-up in a flat array instead of a reference and then
    /// the array it points to (two cache misses of harness work per random read, charged to every engine alike).
    /// </summary>
    public int[] PayloadLengths { get; }

    /// <summary>The event ids the peers store (time-ordered like UUIDv7: big-endian counter after a fixed prefix).</summary>
    public Guid[] PeerIds { get; }

    public int[] EventsPerEntity { get; }

    public long[] EventsPerScope { get; }

    public long[] EventsPerKind { get; }

    public long[] SumPerEntity { get; }

    public long TotalAmount { get; private set; }

    public long PayloadBytes { get; private set; }

    public int ScopeOfEntity(int entity) => entity % ScopeCount;

    public string ScopeOfEvent(int i) => Scopes[ScopeOfEntity(EntityOf[i])];

    public static Dataset Generate(int count, int entityCount, int scopeCount, int payloadBytes, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(entityCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(scopeCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(payloadBytes, 32);
        var d = new Dataset(count, entityCount, scopeCount);
        for (int e = 0; e < entityCount; e++)
        {
            d.Entities[e] = "acct:" + e.ToString(CultureInfo.InvariantCulture);
        }

        for (int s = 0; s < scopeCount; s++)
        {
            d.Scopes[s] = "tenant:" + s.ToString(CultureInfo.InvariantCulture);
        }

        var rng = new Random(seed);
        Span<byte> idBytes = stackalloc byte[16];
        for (int i = 0; i < count; i++)
        {
            int entity = rng.Next(entityCount);
            int kind = rng.Next(KindCount);
            uint amount = (uint)rng.Next(1, 10_000);
            int seq = d.EventsPerEntity[entity]++;
            d.EntityOf[i] = entity;
            d.SequenceOf[i] = seq;
            d.KindOf[i] = kind;
            d.EventsPerScope[d.ScopeOfEntity(entity)]++;
            d.EventsPerKind[kind]++;
            d.SumPerEntity[entity] += amount;
            d.TotalAmount += amount;
            d.Payloads[i] = BuildPayload(rng, payloadBytes, amount, (uint)entity, (uint)seq);
            d.PayloadLengths[i] = d.Payloads[i].Length;
            d.PayloadBytes += d.Payloads[i].Length;

            BinaryPrimitives.WriteUInt64BigEndian(idBytes, 0x0190_0000_0000_7000UL);
            BinaryPrimitives.WriteUInt64BigEndian(idBytes[8..], 0x8000_0000_0000_0000UL | (uint)i);
            d.PeerIds[i] = new Guid(idBytes, bigEndian: true);
        }

        return d;
    }

    private static byte[] BuildPayload(Random rng, int size, uint amount, uint entity, uint seq)
    {
        // 1 (map) + 3 x (2 key + 5 u32) + 2 key + 2 str8 header = 26 bytes of structure, the rest is filler text.
        const int Fixed = 26;
        int filler = Math.Clamp(size - Fixed, 0, 255);
        var p = new byte[Fixed + filler];
        int o = 0;
        p[o++] = 0x84;
        o = WriteU32Entry(p, o, (byte)'a', amount);
        o = WriteU32Entry(p, o, (byte)'e', entity);
        o = WriteU32Entry(p, o, (byte)'s', seq);
        p[o++] = 0xA1;
        p[o++] = (byte)'n';
        p[o++] = 0xD9;
        p[o++] = (byte)filler;
        for (int k = 0; k < filler; k++)
        {
            p[o++] = (byte)('a' + rng.Next(26));
        }

        return p;
    }

    private static int WriteU32Entry(byte[] p, int o, byte key, uint value)
    {
        p[o++] = 0xA1;
        p[o++] = key;
        p[o++] = 0xCE;
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(o), value);
        return o + 4;
    }

    /// <summary>Reads the amount (<c>a</c>) back out of a payload; throws on a payload this bench did not write.</summary>
    public static uint ReadAmount(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 22 || payload[0] != 0x84 || payload[1] != 0xA1 || payload[2] != (byte)'a' || payload[3] != 0xCE)
        {
            throw new InvalidDataException("Not a bench payload.");
        }

        return BinaryPrimitives.ReadUInt32BigEndian(payload[4..]);
    }

    /// <summary>Random event indexes for W3, drawn before timing.</summary>
    public int[] RandomEventIndexes(int reads, int seed)
    {
        var rng = new Random(seed);
        var result = new int[reads];
        for (int i = 0; i < reads; i++)
        {
            result[i] = rng.Next(Count);
        }

        return result;
    }
}
