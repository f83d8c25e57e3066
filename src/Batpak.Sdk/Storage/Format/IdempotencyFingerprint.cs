// Owns what makes two appends "the same event" for an idempotency key: a 64-bit fingerprint of entity, kind and
// payload, part of the format because compaction records carry it for dropped events (docs/FORMAT.md, "Records").
// The writer computes it when it stages a keyed append, SegmentScanner from each keyed frame's payload, and
// SegmentCompactor for the events it drops. What the index keeps per key is IdempotencyRecord.
using System.Buffers;
using System.IO.Hashing;
using System.Text;

namespace Batpak.Storage;

/// <summary>
/// The fingerprint of a keyed append. Stable across processes and machines, since compaction records persist it:
/// XxHash64 of the entity's UTF-8 bytes with the kind as seed, then XxHash64 of the payload with that hash as seed.
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
