// The per-event rules of verification, the same as the embedded engine's ChainVerifier.CheckEvent: the entity
// sequence, the previous-hash link, the content (the FORMAT.md hash recomputed by FrameFormat.ComputeHash), and for
// what only compaction may do (a drop, a tombstone) its proof. Used by PgEntityVerifier and PgLogVerifier only.
using System.Security.Cryptography;
using Batpak.Storage;

namespace Batpak.PostgreSql.Audit;

/// <summary>One entity's chain as verification has walked it so far, and what its entities row claims.</summary>
internal sealed class EntityChain(string name, long storedLastSequence, byte[] storedLastHash)
{
    public string Name { get; } = name;

    public long StoredLastSequence { get; } = storedLastSequence;

    public byte[] StoredLastHash { get; } = storedLastHash;

    /// <summary>The entity sequence the next row must have.</summary>
    public long Next { get; set; }

    /// <summary>The hash of the last row walked (zero before the first).</summary>
    public EventHash Last { get; set; }

    /// <summary>Why the walked chain does not end where the entities row says it does, or <see langword="null"/>.</summary>
    public string? EndProblem()
    {
        if (Next - 1 != StoredLastSequence)
        {
            return $"entity \"{Name}\": its stored events end at sequence {Next - 1}, but the entities row says {StoredLastSequence} (events were removed or added outside the engine)";
        }

        return StoredLastHash.Length == EventHash.Size && EventHash.FromBytes(StoredLastHash) == Last
            ? null
            : $"entity \"{Name}\": the hash of its last event (sequence {Next - 1}) is not the last hash the entities row holds";
    }
}

/// <summary>Checks rows against their entity's chain; holds a reusable hash, so one instance serves one verification.</summary>
internal sealed class ChainChecks(byte[]? chainKey, IReadOnlyDictionary<int, string> scopes) : IDisposable
{
    private readonly IncrementalHash _sha = ChainHashing.Create(chainKey);

    /// <summary>
    /// Checks <paramref name="row"/> as the next of <paramref name="chain"/> and advances the chain; returns why it
    /// fails, or <see langword="null"/>. <paramref name="hash"/> is the row's stored hash (what the global chain takes).
    /// </summary>
    public string? Check(AuditRow row, EntityChain chain, out EventHash hash)
    {
        hash = default;
        string at = row.Describe(chain.Name);
        if (row.Hash.Length != EventHash.Size)
        {
            return $"{at}: its hash is {row.Hash.Length} bytes, not {EventHash.Size}";
        }

        hash = EventHash.FromBytes(row.Hash);
        if (row.EntitySequence != chain.Next)
        {
            return $"{at}: sequence {row.EntitySequence} follows {chain.Next - 1} ({(row.EntitySequence < chain.Next ? "a reordering or a duplicate" : "a gap no drop accounts for")})";
        }

        if (row.Kind is < 0 or > ushort.MaxValue)
        {
            return $"{at}: kind {row.Kind} is outside 0..65535";
        }

        if (row.IsDropped)
        {
            // The link continues through the recorded hash; the proof says compaction (with the key) dropped it.
            byte[]? expected = CompactionProofs.Dropped(chainKey, row.GlobalSequence, row.EventId, chain.Name, row.EntitySequence, (ushort)row.Kind, hash);
            if (CompactionProofs.Problem(chainKey, row.DroppedMac, expected) is { } problem)
            {
                return $"{at}: listed as dropped, but {problem}; no compaction dropped it";
            }

            Advance(chain, hash);
            return null;
        }

        if (row.PrevHash is not { Length: EventHash.Size } || EventHash.FromBytes(row.PrevHash) != chain.Last)
        {
            return $"{at}: its previous-hash link does not match the preceding event's hash";
        }

        if (row.Flags is < 0 or > ushort.MaxValue)
        {
            return $"{at}: flags {row.Flags} are outside 0..65535";
        }

        if ((row.Flags & (int)EventFlags.Tombstone) != 0)
        {
            // The payload is gone, so the content cannot be recomputed; only a compaction may have made it.
            byte[]? expected = CompactionProofs.Tombstone(chainKey, row.GlobalSequence, row.EventId, chain.Name, row.EntitySequence, (ushort)row.Kind, hash);
            string? problem = !row.HasTombstoneRow ? "no compaction made it one (it is not in the tombstones table)"
                : row.Payload.Length != 0 ? $"it still holds {row.Payload.Length} payload bytes"
                : CompactionProofs.Problem(chainKey, row.TombstoneMac, expected);
            if (problem is not null)
            {
                return $"{at}: flagged a tombstone, but {problem}";
            }

            Advance(chain, hash);
            return null;
        }

        if (!scopes.TryGetValue(row.ScopeId, out string? scope))
        {
            return $"{at}: its scope id {row.ScopeId} is not in the scopes table";
        }

        var fields = new FrameFormat.FrameFields
        {
            GlobalSequence = row.GlobalSequence,
            EventId = row.EventId,
            CorrelationId = row.CorrelationId ?? row.EventId,
            CausationId = row.CausationId ?? EventId.Empty,
            TimestampMicroseconds = row.TimestampMicroseconds,
            WallMilliseconds = row.WallMilliseconds,
            Counter = unchecked((uint)row.Counter),
            Depth = unchecked((uint)row.Depth),
            EntitySequence = row.EntitySequence,
            Kind = (ushort)row.Kind,
            Flags = (ushort)row.Flags,
            PrevHash = chain.Last,
            Hash = hash,
            Entity = chain.Name,
            Scope = scope,
            IdempotencyKey = row.IdempotencyKey,
            BypassReason = row.BypassReason,
        };
        EventHash computed = FrameFormat.ComputeHash(_sha, fields, row.Payload);
        if (computed != hash)
        {
            return $"{at}: the stored hash {hash} does not match the recomputed {computed}; the event was altered";
        }

        Advance(chain, hash);
        return null;
    }

    public void Dispose() => _sha.Dispose();

    private static void Advance(EntityChain chain, in EventHash hash)
    {
        chain.Next++;
        chain.Last = hash;
    }
}
