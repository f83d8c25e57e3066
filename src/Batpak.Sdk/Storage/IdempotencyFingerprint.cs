// Owns what makes two appends "the same event" for an idempotency key: a 64-bit fingerprint of entity, kind and
// payload, and the record the index keeps per key (receipt, entity, kind, fingerprint). The writer computes it when
// it stages a keyed append, recovery from each keyed frame's payload.
using System.Buffers;
using System.IO.Hashing;
using System.Text;

namespace Batpak.Storage;

/// <summary>
/// The fingerprint of a keyed append. Stable across processes and machines (it may be persisted): XxHash64 of the
/// entity's UTF-8 bytes with the kind as seed, then XxHash64 of the payload with that hash as seed.
/// </summary>
internal static class IdempotencyFingerprint
{
    public static ulong Compute(string entity, ushort kind, ReadOnlySpan<byte> payload)
    {
        int max = Encoding.UTF8.GetMaxByteCount(entity.Length);
        byte[]? rented = max > 1024 ? ArrayPool<byte>.Shared.Rent(max) : null;
        Span<byte> utf8 = rented ?? stackalloc byte[1024];
        try
        {
            int length = Encoding.UTF8.GetBytes(entity, utf8);
            ulong entityHash = XxHash64.HashToUInt64(utf8[..length], kind);
            return XxHash64.HashToUInt64(payload, unchecked((long)entityHash));
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}

/// <summary>What the index remembers about an idempotency key: the receipt a repeat gets, and what a repeat must match.</summary>
/// <param name="Receipt">The receipt of the event that holds the key.</param>
/// <param name="Entity">That event's entity.</param>
/// <param name="Kind">That event's kind.</param>
/// <param name="Fingerprint"><see cref="IdempotencyFingerprint.Compute"/> of that event.</param>
internal readonly record struct IdempotencyRecord(AppendReceipt Receipt, string Entity, ushort Kind, ulong Fingerprint)
{
    /// <summary>Null when an append of <paramref name="entity"/>, <paramref name="kind"/> and <paramref name="fingerprint"/> repeats this event; else the conflict to throw.</summary>
    public IdempotencyConflictException? Check(string key, string entity, ushort kind, ulong fingerprint)
    {
        bool sameEntity = string.Equals(entity, Entity, StringComparison.Ordinal);
        if (sameEntity && kind == Kind && fingerprint == Fingerprint)
        {
            return null;
        }

        return new IdempotencyConflictException(key, Receipt.EventId, Entity, EventKind.FromValue(Kind), entity, EventKind.FromValue(kind), payloadDiffers: sameEntity && kind == Kind);
    }
}
