// Owns the per-entity hash-chain link (docs/FORMAT.md, "Hash chain"): which fields the event hash covers, in which
// encoding. Called by StoreWriter when it stamps an event, by EventStore.Verification, FormatVersion1 and
// FormatUpgrade, and by tests and bench.
using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;

namespace Batpak.Storage;

internal static partial class FrameFormat
{
    /// <summary>The flag bits the hash covers: all but <see cref="EventFlags.Tombstone"/>, which compaction sets (a compaction record proves it).</summary>
    public const ushort HashedFlagsMask = unchecked((ushort)~(ushort)EventFlags.Tombstone);

    /// <summary>
    /// The hash-chain link (format version 2): SHA-256, or HMAC-SHA256 when <paramref name="sha"/> is keyed, over the
    /// previous hash, every header field a reader relies on, the coordinate, the idempotency key, the bypass reason
    /// and the payload; each part fixed-size or length-prefixed so no two inputs share an encoding (docs/FORMAT.md,
    /// "Hash chain"). The tombstone flag bit is left out, so a tombstone keeps the hash of the event it replaced.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the append path: tiering would run it unoptimized (and instrumented) through a short burst of appends
    public static EventHash ComputeHash(IncrementalHash sha, in FrameFields f, ReadOnlySpan<byte> payload)
    {
        const int FixedSize = 32 + 16 + 16 + 16 + 8 + 8 + 8 + 4 + 2 + 2 + 8 + 4;
        int variableMax = Encoding.UTF8.GetMaxByteCount(f.Entity.Length) + Encoding.UTF8.GetMaxByteCount(f.Scope.Length)
            + Encoding.UTF8.GetMaxByteCount(f.IdempotencyKey?.Length ?? 0) + Encoding.UTF8.GetMaxByteCount(f.BypassReason?.Length ?? 0);
        long max = FixedSize + (5 * 4) + (long)variableMax + payload.Length;
        Span<byte> digest = stackalloc byte[EventHash.Size];
        if (max > 4096)
        {
            // Large inputs are hashed in pieces rather than copied.
            Span<byte> head = stackalloc byte[FixedSize];
            WriteFixed(head, f);
            sha.AppendData(head);
            AppendString(sha, f.Entity);
            AppendString(sha, f.Scope);
            AppendOptionalString(sha, f.IdempotencyKey);
            AppendOptionalString(sha, f.BypassReason);
            Span<byte> length = stackalloc byte[4];
            BinaryPrimitives.WriteInt32BigEndian(length, payload.Length);
            sha.AppendData(length);
            sha.AppendData(payload);
            sha.GetHashAndReset(digest);
            return EventHash.FromBytes(digest);
        }

        // One contiguous input, hashed with one append to the caller's reusable hash: about half the cost of several
        // incremental appends, and cheaper than the one-shot SHA256.HashData (which sets up a native context per call).
        Span<byte> input = stackalloc byte[4096];
        WriteFixed(input, f);
        int at = FixedSize;
        at += WriteString(input[at..], f.Entity);
        at += WriteString(input[at..], f.Scope);
        at += WriteOptionalString(input[at..], f.IdempotencyKey);
        at += WriteOptionalString(input[at..], f.BypassReason);
        BinaryPrimitives.WriteInt32BigEndian(input[at..], payload.Length);
        at += 4;
        payload.CopyTo(input[at..]);
        at += payload.Length;
        sha.AppendData(input[..at]);
        sha.GetHashAndReset(digest);
        return EventHash.FromBytes(digest);

        static void WriteFixed(Span<byte> destination, in FrameFields f)
        {
            f.PrevHash.WriteBytes(destination);
            f.EventId.WriteBytes(destination[32..]);
            f.CorrelationId.WriteBytes(destination[48..]);
            f.CausationId.WriteBytes(destination[64..]);
            BinaryPrimitives.WriteInt64BigEndian(destination[80..], f.GlobalSequence);
            BinaryPrimitives.WriteInt64BigEndian(destination[88..], f.TimestampMicroseconds);
            BinaryPrimitives.WriteInt64BigEndian(destination[96..], f.EntitySequence);
            BinaryPrimitives.WriteUInt32BigEndian(destination[104..], f.Depth);
            BinaryPrimitives.WriteUInt16BigEndian(destination[108..], f.Kind);
            BinaryPrimitives.WriteUInt16BigEndian(destination[110..], (ushort)(f.Flags & HashedFlagsMask));
            BinaryPrimitives.WriteInt64BigEndian(destination[112..], f.WallMilliseconds);
            BinaryPrimitives.WriteUInt32BigEndian(destination[120..], f.Counter);
        }

        static int WriteString(Span<byte> destination, string value)
        {
            int written = Encoding.UTF8.GetBytes(value, destination[4..]);
            BinaryPrimitives.WriteInt32BigEndian(destination, written);
            return written + 4;
        }

        static int WriteOptionalString(Span<byte> destination, string? value)
        {
            if (value is null)
            {
                BinaryPrimitives.WriteInt32BigEndian(destination, -1); // absent differs from empty
                return 4;
            }

            return WriteString(destination, value);
        }
    }

    private static void AppendString(IncrementalHash sha, string value)
    {
        int max = Encoding.UTF8.GetMaxByteCount(value.Length);
        byte[]? rented = null;
        Span<byte> buffer = max + 4 <= 1024 ? stackalloc byte[1024] : (rented = ArrayPool<byte>.Shared.Rent(max + 4));
        int written = Encoding.UTF8.GetBytes(value, buffer[4..]);
        BinaryPrimitives.WriteInt32BigEndian(buffer, written);
        sha.AppendData(buffer[..(written + 4)]);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static void AppendOptionalString(IncrementalHash sha, string? value)
    {
        if (value is null)
        {
            Span<byte> absent = stackalloc byte[4];
            BinaryPrimitives.WriteInt32BigEndian(absent, -1);
            sha.AppendData(absent);
            return;
        }

        AppendString(sha, value);
    }
}
