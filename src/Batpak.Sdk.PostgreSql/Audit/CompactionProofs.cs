// The proofs compaction leaves beside what it changed (schema V2: dropped.mac, tombstones.mac), the PostgreSQL
// counterpart of the embedded engine's MAC'd compaction record. Written by PgCompactionRunner, checked by ChainChecks.
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Batpak.PostgreSql.Audit;

/// <summary>
/// HMAC-SHA256 under the chain key over a dropped or tombstoned event's place (global and entity sequence, entity,
/// event id, kind) and hash, with a label per kind of proof so one can never stand for the other. An unkeyed store
/// has no proof (NULL), exactly as its embedded compaction record has no MAC: there, an attacker who can write the
/// tables can also forge a drop, and only a keyed store (or an anchor) tells.
/// </summary>
internal static class CompactionProofs
{
    private static ReadOnlySpan<byte> DropLabel => "batpak pg dropped, v2"u8;

    private static ReadOnlySpan<byte> TombstoneLabel => "batpak pg tombstone, v2"u8;

    /// <summary>The proof of a drop; <see langword="null"/> without a key.</summary>
    public static byte[]? Dropped(byte[]? key, long globalSequence, EventId id, string entity, long entitySequence, ushort kind, in EventHash hash) =>
        key is null ? null : Mac(key, DropLabel, globalSequence, id, entity, entitySequence, kind, hash);

    /// <summary>The proof of a tombstone; <see langword="null"/> without a key.</summary>
    public static byte[]? Tombstone(byte[]? key, long globalSequence, EventId id, string entity, long entitySequence, ushort kind, in EventHash hash) =>
        key is null ? null : Mac(key, TombstoneLabel, globalSequence, id, entity, entitySequence, kind, hash);

    /// <summary>
    /// Why <paramref name="stored"/> is not the proof <paramref name="expected"/> (what this key would write), or
    /// <see langword="null"/> when it is. In an unkeyed store the proof must be absent.
    /// </summary>
    public static string? Problem(byte[]? key, byte[]? stored, byte[]? expected)
    {
        if (key is null)
        {
            return stored is null ? null : "it carries a MAC, but the store is not keyed";
        }

        if (stored is null)
        {
            return "the store is keyed and it carries no MAC";
        }

        return CryptographicOperations.FixedTimeEquals(stored, expected) ? null : "its MAC does not verify under the chain key";
    }

    private static byte[] Mac(byte[] key, ReadOnlySpan<byte> label, long globalSequence, EventId id, string entity, long entitySequence, ushort kind, in EventHash hash)
    {
        int entityBytes = Encoding.UTF8.GetByteCount(entity);
        byte[] input = new byte[label.Length + 8 + 8 + 16 + 2 + EventHash.Size + 4 + entityBytes];
        Span<byte> at = input;
        label.CopyTo(at);
        at = at[label.Length..];
        BinaryPrimitives.WriteInt64BigEndian(at, globalSequence);
        BinaryPrimitives.WriteInt64BigEndian(at[8..], entitySequence);
        id.WriteBytes(at[16..]);
        BinaryPrimitives.WriteUInt16BigEndian(at[32..], kind);
        hash.WriteBytes(at[34..]);
        BinaryPrimitives.WriteInt32BigEndian(at[66..], entityBytes);
        Encoding.UTF8.GetBytes(entity, at[70..]);
        return HMACSHA256.HashData(key, input);
    }
}
