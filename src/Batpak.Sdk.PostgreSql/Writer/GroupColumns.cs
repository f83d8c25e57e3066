// The staged rows of one group as the column arrays the writer's unnest statements take: one pass over the rows,
// shared by the two-round-trip path and the last-writer fast path (PgWriter.Sql.cs, PgWriter.FastPath.cs).
using System.Runtime.InteropServices;
using Batpak.Storage;

namespace Batpak.PostgreSql.Writer;

/// <summary>One array per <c>events</c> column, index i being staged row i.</summary>
internal sealed class GroupColumns
{
    /// <summary>The <c>events</c> columns the inserts fill, in the order of the arrays they pass.</summary>
    public const string EventColumns =
        "global_seq, event_id, entity_id, entity_seq, scope_id, kind, flags, ts_us, hlc_wall_ms, hlc_counter, depth, correlation_id, causation_id, prev_hash, hash, idem_key, bypass_reason, payload";

    public GroupColumns(List<StagedRow> rows)
    {
        int n = rows.Count;
        Global = new long[n];
        Ids = new Guid[n];
        Entities = new string[n];
        EntitySequences = new long[n];
        Scopes = new string[n];
        Kinds = new int[n];
        Flags = new int[n];
        Timestamps = new long[n];
        Walls = new long[n];
        Counters = new int[n];
        Depths = new int[n];
        Correlations = new Guid?[n];
        Causations = new Guid?[n];
        PrevHashes = new byte[n][];
        Hashes = new byte[n][];
        Keys = new string?[n];
        Bypasses = new string?[n];
        Payloads = new byte[n][];
        for (int i = 0; i < n; i++)
        {
            ref readonly FrameFormat.FrameFields f = ref CollectionsMarshal.AsSpan(rows)[i].Fields;
            Global[i] = f.GlobalSequence;
            Ids[i] = f.EventId.ToGuid();
            Entities[i] = f.Entity;
            EntitySequences[i] = f.EntitySequence;
            Scopes[i] = f.Scope;
            Kinds[i] = f.Kind;
            Flags[i] = f.Flags;
            Timestamps[i] = f.TimestampMicroseconds;
            Walls[i] = f.WallMilliseconds;
            Counters[i] = unchecked((int)f.Counter);
            Depths[i] = unchecked((int)f.Depth);
            Correlations[i] = f.CorrelationId == f.EventId ? null : f.CorrelationId.ToGuid();
            Causations[i] = f.CausationId.IsEmpty ? null : f.CausationId.ToGuid();
            PrevHashes[i] = f.PrevHash.ToArray();
            Hashes[i] = f.Hash.ToArray();
            Keys[i] = f.IdempotencyKey;
            Bypasses[i] = f.BypassReason;
            Payloads[i] = Bytes(rows[i].Payload);
            Keyed += f.IdempotencyKey is null ? 0 : 1;
        }
    }

    public long[] Global { get; }

    public Guid[] Ids { get; }

    public string[] Entities { get; }

    public long[] EntitySequences { get; }

    public string[] Scopes { get; }

    public int[] Kinds { get; }

    public int[] Flags { get; }

    public long[] Timestamps { get; }

    public long[] Walls { get; }

    public int[] Counters { get; }

    public int[] Depths { get; }

    public Guid?[] Correlations { get; }

    public Guid?[] Causations { get; }

    public byte[][] PrevHashes { get; }

    public byte[][] Hashes { get; }

    public string?[] Keys { get; }

    public string?[] Bypasses { get; }

    public byte[][] Payloads { get; }

    /// <summary>Rows with an idempotency key.</summary>
    public int Keyed { get; }

    private static byte[] Bytes(ReadOnlyMemory<byte> payload) =>
        MemoryMarshal.TryGetArray(payload, out ArraySegment<byte> segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : payload.ToArray();
}
