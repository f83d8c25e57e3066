// Owns the segment header: its encoder, and its parser for versions 2 and 1. StoreWriter, SegmentCompactor and
// FormatUpgrade write headers; open, recovery (EventStore, SegmentScanner), FormatVersion1 and tests read them.
using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using MessagePack;

namespace Batpak.Storage;

/// <summary>
/// The segment header codec (docs/FORMAT.md, "Segment file"): <c>"FBAT"</c>, u32 BE header length, the MessagePack
/// header, and (from version 2) a CRC-32 of the header bytes. Pure functions: no state; the file overload reads.
/// </summary>
/// <remarks>
/// Version 2 trusts nothing in the header that its CRC does not cover, and the header no longer says which files a
/// compaction replaced (that is the compaction record's job, inside the segment). Version 1 headers are still parsed,
/// so that a version-1 store can be recognised and upgraded (<c>FormatUpgrade</c>).
/// </remarks>
internal static partial class FrameFormat
{
    /// <summary>Segment header flag: the segment was written by compaction (informational; its compaction record is the proof).</summary>
    public const int SegmentFlagCompacted = 1;

    /// <summary>Segment header flag: the segment's hashes are HMAC-SHA256 under the store's chain key.</summary>
    public const int SegmentFlagKeyed = 2;

    /// <summary>The size of the header checksum that follows a version-2 header.</summary>
    public const int SegmentHeaderCrcSize = 4;

    /// <summary>A decoded segment header.</summary>
    /// <param name="Version">The format version (1 or 2).</param>
    /// <param name="Flags">Header flags (<see cref="SegmentFlagCompacted"/>, <see cref="SegmentFlagKeyed"/>).</param>
    /// <param name="CreatedMicroseconds">When the segment was created.</param>
    /// <param name="SegmentId">The id, equal to the file name's.</param>
    /// <param name="Length">The bytes before the first frame: preamble, header and (version 2) its CRC.</param>
    /// <param name="CompactedFrom">Version 1 only: the lowest segment id whose events the file holds (its own id for version 2).</param>
    /// <param name="KeyCheck">Version 2: the chain key's check value when <see cref="SegmentFlagKeyed"/> is set, else 0.</param>
    public readonly record struct SegmentHeader(int Version, int Flags, long CreatedMicroseconds, int SegmentId, int Length, int CompactedFrom, ulong KeyCheck = 0)
    {
        /// <summary>True when the segment's hashes are keyed.</summary>
        public bool IsKeyed => (Flags & SegmentFlagKeyed) != 0;
    }

    /// <summary>Why a header did not parse: torn (fewer bytes than it needs: a crash while creating it) or damaged.</summary>
    public enum HeaderProblem
    {
        None,
        Torn,
        Damaged,
    }

    /// <summary>Writes a version-2 preamble, header and header CRC into <paramref name="writer"/>; returns their length.</summary>
    public static int WriteSegmentHeader(IBufferWriter<byte> writer, int segmentId, long createdMicroseconds, int flags = 0, ulong keyCheck = 0)
    {
        var header = new ArrayBufferWriter<byte>(64);
        var mp = new MessagePackWriter(header);
        mp.WriteArrayHeader(5);
        mp.Write((ushort)FormatVersion);
        mp.Write((ushort)(keyCheck != 0 ? flags | SegmentFlagKeyed : flags & ~SegmentFlagKeyed));
        mp.Write(createdMicroseconds);
        mp.Write((ulong)segmentId);
        mp.Write(keyCheck);
        mp.Flush();

        Span<byte> preamble = writer.GetSpan(SegmentPreambleSize);
        Magic.CopyTo(preamble);
        BinaryPrimitives.WriteUInt32BigEndian(preamble[4..], (uint)header.WrittenCount);
        writer.Advance(SegmentPreambleSize);
        writer.Write(header.WrittenSpan);
        Span<byte> crc = writer.GetSpan(SegmentHeaderCrcSize);
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32.HashToUInt32(header.WrittenSpan));
        writer.Advance(SegmentHeaderCrcSize);
        return SegmentPreambleSize + header.WrittenCount + SegmentHeaderCrcSize;
    }

    /// <summary>Reads and parses the header of the segment file at <paramref name="path"/>; null when it is unreadable or invalid.</summary>
    public static SegmentHeader? TryReadSegmentHeader(string path)
    {
        try
        {
            using Microsoft.Win32.SafeHandles.SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            return TryReadSegmentHeader(handle, out _);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Reads and parses the header at the start of an open segment file; null with the kind of problem when it is invalid.</summary>
    public static SegmentHeader? TryReadSegmentHeader(Microsoft.Win32.SafeHandles.SafeFileHandle handle, out HeaderProblem kind)
    {
        Span<byte> probe = stackalloc byte[SegmentPreambleSize + 256];
        int n = RandomAccess.Read(handle, probe, 0);
        return TryReadSegmentHeader(probe[..n], out _, out kind);
    }

    /// <summary>Parses a segment header; returns null with a reason when the bytes are not a valid header.</summary>
    public static SegmentHeader? TryReadSegmentHeader(ReadOnlySpan<byte> bytes, out string? problem) =>
        TryReadSegmentHeader(bytes, out problem, out _);

    /// <summary>Parses a segment header; returns null with a reason and its kind when the bytes are not a valid header.</summary>
    public static SegmentHeader? TryReadSegmentHeader(ReadOnlySpan<byte> bytes, out string? problem, out HeaderProblem kind)
    {
        problem = null;
        kind = HeaderProblem.Damaged;
        if (bytes.Length < SegmentPreambleSize)
        {
            problem = $"the file is {bytes.Length} bytes, shorter than the {SegmentPreambleSize}-byte preamble";
            kind = HeaderProblem.Torn;
            return null;
        }

        if (!bytes[..4].SequenceEqual(Magic))
        {
            problem = $"wrong magic 0x{Convert.ToHexString(bytes[..4])} (expected \"FBAT\")";
            return null;
        }

        uint headerLength = BinaryPrimitives.ReadUInt32BigEndian(bytes[4..]);
        if (headerLength is 0 or > MaxSegmentHeaderBytes)
        {
            problem = $"implausible header length {headerLength}";
            return null;
        }

        if (bytes.Length < SegmentPreambleSize + headerLength)
        {
            problem = $"the header is torn ({bytes.Length - SegmentPreambleSize} of {headerLength} bytes present)";
            kind = HeaderProblem.Torn;
            return null;
        }

        ReadOnlySpan<byte> body = bytes.Slice(SegmentPreambleSize, (int)headerLength);
        try
        {
            var reader = new MessagePackReader(body.ToArray());
            int count = reader.ReadArrayHeader();
            if (count < 4)
            {
                problem = $"the header has {count} fields, expected at least 4";
                return null;
            }

            int version = reader.ReadUInt16();
            if (version == FormatVersion)
            {
                return ReadVersion2(bytes, body, ref reader, count, out problem, out kind);
            }

            if (version == 1)
            {
                return ReadVersion1(body, ref reader, count, out problem);
            }

            problem = $"unsupported format version {version} (this build reads versions 1 and {FormatVersion})";
            return null;
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException or OverflowException)
        {
            // MessagePackReader reports a short or out-of-range value as EndOfStreamException / OverflowException.
            problem = "the header is not valid MessagePack: " + ex.Message;
            return null;
        }
    }

    private static SegmentHeader? ReadVersion2(ReadOnlySpan<byte> bytes, ReadOnlySpan<byte> body, ref MessagePackReader reader, int count, out string? problem, out HeaderProblem kind)
    {
        problem = null;
        kind = HeaderProblem.Damaged;
        int end = SegmentPreambleSize + body.Length;
        if (bytes.Length < end + SegmentHeaderCrcSize)
        {
            problem = $"the header checksum is torn ({bytes.Length - end} of {SegmentHeaderCrcSize} bytes present)";
            kind = HeaderProblem.Torn;
            return null;
        }

        uint stored = BinaryPrimitives.ReadUInt32BigEndian(bytes[end..]);
        uint computed = Crc32.HashToUInt32(body);
        if (stored != computed)
        {
            problem = $"the header checksum 0x{stored:X8} does not match its bytes (0x{computed:X8})";
            return null;
        }

        // Past the checksum the fields are what the writer wrote; they are still checked for sense.
        int flags = reader.ReadUInt16();
        long created = reader.ReadInt64();
        ulong id = reader.ReadUInt64();
        ulong keyCheck = count > 4 ? reader.ReadUInt64() : 0;
        for (int i = 5; i < count; i++)
        {
            reader.Skip(); // fields of a newer minor format: ignored
        }

        if (reader.Consumed != body.Length)
        {
            problem = $"the header length says {body.Length} bytes but the header is {reader.Consumed} bytes";
            return null;
        }

        if (id is 0 or > int.MaxValue)
        {
            problem = $"implausible segment id {id}";
            return null;
        }

        if (((flags & SegmentFlagKeyed) != 0) != (keyCheck != 0))
        {
            problem = $"the keyed flag ({(flags & SegmentFlagKeyed) != 0}) disagrees with the key check value (0x{keyCheck:X16})";
            return null;
        }

        kind = HeaderProblem.None;
        return new SegmentHeader(FormatVersion, flags, created, (int)id, end + SegmentHeaderCrcSize, (int)id, keyCheck);
    }

    private static SegmentHeader? ReadVersion1(ReadOnlySpan<byte> body, ref MessagePackReader reader, int count, out string? problem)
    {
        problem = null;
        int flags = reader.ReadUInt16();
        long created = reader.ReadInt64();
        ulong id = reader.ReadUInt64();
        ulong compactedFrom = count > 4 ? reader.ReadUInt64() : id;
        for (int i = 5; i < count; i++)
        {
            reader.Skip();
        }

        if (id is 0 or > int.MaxValue)
        {
            problem = $"implausible segment id {id}";
            return null;
        }

        if (reader.Consumed != body.Length)
        {
            problem = $"the header length says {body.Length} bytes but the header is {reader.Consumed} bytes";
            return null;
        }

        if (compactedFrom is 0 || compactedFrom > id)
        {
            problem = $"implausible compacted-from id {compactedFrom} for segment {id}";
            return null;
        }

        return new SegmentHeader(1, flags, created, (int)id, SegmentPreambleSize + body.Length, (int)compactedFrom);
    }
}
