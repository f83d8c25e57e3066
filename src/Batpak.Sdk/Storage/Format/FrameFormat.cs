// Owns the constants, segment file names and frame field layout of the on-disk format, and the decoded
// frame (FrameFields); the other FrameFormat.*.cs files hold the codecs. Anything in Batpak.Storage may call it.
namespace Batpak.Storage;

/// <summary>
/// Constants and codecs of the on-disk format, version 2 (docs/FORMAT.md). Pure functions with no state; only the
/// path and handle overloads of <c>TryReadSegmentHeader</c> read a file.
/// </summary>
/// <remarks>
/// A segment file is <c>"FBAT"</c> + u32 BE header length + a MessagePack segment header + u32 BE CRC-32 of that
/// header, then frames. A frame is u32 BE body length + u32 BE CRC-32 (IEEE) of the body + the body, a MessagePack
/// array of <see cref="BodyFieldCount"/> (or more, for forward compatibility) fields in the order of
/// <see cref="BodyField"/>.
/// </remarks>
internal static partial class FrameFormat
{
    public const int FormatVersion = 2;
    public const int FrameHeaderSize = 8;
    public const int SegmentPreambleSize = 8; // magic + header length
    public const int MaxSegmentHeaderBytes = 4096;
    public const string SegmentExtension = ".fbat";
    public const int BodyFieldCount = 19;
    public const int MinBodyFieldCount = 16; // fields 16.. are optional (nil) and may be absent in a future trimmed writer

    public static ReadOnlySpan<byte> Magic => "FBAT"u8;

    /// <summary>Field positions in the frame body array.</summary>
    public enum BodyField
    {
        GlobalSequence = 0,
        EventId = 1,
        CorrelationId = 2,
        CausationId = 3,
        TimestampMicroseconds = 4,
        WallMilliseconds = 5,
        Counter = 6,
        Depth = 7,
        EntitySequence = 8,
        Kind = 9,
        Flags = 10,
        PrevHash = 11,
        Hash = 12,
        Entity = 13,
        Scope = 14,
        Payload = 15,
        IdempotencyKey = 16,
        BypassReason = 17,
        BatchRemaining = 18,
    }

    /// <summary>
    /// The file name of a segment: its id in at least six digits (<c>000042.fbat</c>, <c>1000000.fbat</c>), so
    /// every name of the first 999,999 segments is unchanged. Ids are <see cref="int"/>s; the writer refuses to
    /// rotate past <see cref="int.MaxValue"/> rather than overflow (see <see cref="ActiveSegment.SealAndRotate"/>).
    /// </summary>
    public static string SegmentFileName(int segmentId) => segmentId.ToString("D6", System.Globalization.CultureInfo.InvariantCulture) + SegmentExtension;

    /// <summary>
    /// Parses a name <see cref="SegmentFileName"/> writes (<c>000042.fbat</c> to 42, <c>1000000.fbat</c> to
    /// 1,000,000); false for any other name, including other spellings of an id (<c>0000042.fbat</c>).
    /// </summary>
    public static bool TryParseSegmentFileName(string fileName, out int segmentId)
    {
        segmentId = 0;
        int digits = fileName.Length - SegmentExtension.Length;
        if (digits < 6 || digits > 10 || !fileName.EndsWith(SegmentExtension, StringComparison.Ordinal))
        {
            return false;
        }

        // Only the one spelling (no extra leading zeros), so two files can never name the same id.
        if (!int.TryParse(fileName.AsSpan(0, digits), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int parsed)
            || parsed <= 0 || !string.Equals(SegmentFileName(parsed), fileName, StringComparison.Ordinal))
        {
            return false;
        }

        segmentId = parsed;
        return true;
    }

    /// <summary>The fields of one frame, as encoded; strings and payload are references, not copies, when decoded with spans.</summary>
    public struct FrameFields
    {
        public long GlobalSequence;
        public EventId EventId;
        public EventId CorrelationId;
        public EventId CausationId; // Empty = none
        public long TimestampMicroseconds;
        public long WallMilliseconds;
        public uint Counter;
        public uint Depth;
        public long EntitySequence;
        public ushort Kind;
        public ushort Flags;
        public EventHash PrevHash;
        public EventHash Hash;
        public string Entity;
        public string Scope;
        public string? IdempotencyKey;
        public string? BypassReason;
        public uint BatchRemaining; // frames of the same atomic batch that follow this one (0: last or single)
    }

    /// <summary>The engine-neutral header fields of a decoded frame (what a <see cref="StoredEvent"/> keeps).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static EventHeaderFields HeaderOf(in FrameFields fields) => new()
    {
        GlobalSequence = fields.GlobalSequence,
        EventId = fields.EventId,
        CorrelationId = fields.CorrelationId,
        CausationId = fields.CausationId,
        TimestampMicroseconds = fields.TimestampMicroseconds,
        WallMilliseconds = fields.WallMilliseconds,
        Counter = fields.Counter,
        Depth = fields.Depth,
        EntitySequence = fields.EntitySequence,
        Kind = fields.Kind,
        Flags = fields.Flags,
        PrevHash = fields.PrevHash,
        Hash = fields.Hash,
    };

    /// <summary>The public header record of a decoded frame.</summary>
    public static EventHeader ToHeader(in FrameFields fields) => HeaderOf(fields).ToHeader();

    // The HLC wall is stored as a delta from floor(timestamp / 1000): the writer and both readers share this.
    private static long FloorDiv(long value, long divisor) => value >= 0 ? value / divisor : ((value + 1) / divisor) - 1;
}
