using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace Batpak.Storage;

/// <summary>
/// A 64-bit fingerprint of what an idempotency key was first used for (entity, kind, payload): a retry with the
/// same key must match it, or it is a conflict, not a repeat. Kept in the index beside the key, and in compaction
/// records for keys whose events were dropped. Not a security boundary (XxHash64 is not collision-resistant).
/// </summary>
internal static class IdempotencyFingerprint
{
    /// <summary>The fingerprint of an append: XxHash64 over the length-prefixed UTF-8 entity, the kind and the payload.</summary>
    public static ulong Compute(string entity, ushort kind, ReadOnlySpan<byte> payload)
    {
        var hash = new XxHash64();
        Span<byte> prefix = stackalloc byte[6];
        int length = Encoding.UTF8.GetByteCount(entity);
        BinaryPrimitives.WriteInt32BigEndian(prefix, length);
        BinaryPrimitives.WriteUInt16BigEndian(prefix[4..], kind);
        hash.Append(prefix);
        byte[] utf8 = Encoding.UTF8.GetBytes(entity);
        hash.Append(utf8);
        hash.Append(payload);
        return hash.GetCurrentHashAsUInt64();
    }
}
