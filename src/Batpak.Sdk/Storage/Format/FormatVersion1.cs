using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Batpak.Storage;

/// <summary>
/// Reads and verifies a version-1 store for <see cref="FormatUpgrade"/>: its live segments by version 1's own rules
/// (a compaction output's header names the lowest id it replaces), every frame CRC-checked and decoded, a torn tail of
/// the last segment left out, and every entity chain recomputed with the version-1 hash. A store that fails its own
/// verification is refused, so an upgrade never blesses damage or tampering by re-hashing it.
/// </summary>
internal static class FormatVersion1
{
    /// <summary>One event of a version-1 store, with its payload copied.</summary>
    public sealed record Event(FrameFormat.FrameFields Fields, byte[] Payload);

    /// <summary>One live version-1 segment and its events in file order.</summary>
    public sealed record Segment(int Id, int CompactedFrom, bool Compacted, List<Event> Events);

    /// <summary>True when the directory's lowest segment file has a version-1 header.</summary>
    public static bool IsVersion1(string directory)
    {
        int lowest = ListIds(directory).DefaultIfEmpty(0).Min();
        return lowest > 0 && FrameFormat.TryReadSegmentHeader(Path.Combine(directory, FrameFormat.SegmentFileName(lowest))) is { Version: 1 };
    }

    /// <summary>The segment ids of the directory's segment files, ascending.</summary>
    public static List<int> ListIds(string directory) =>
        Directory.EnumerateFiles(directory, "*" + FrameFormat.SegmentExtension)
            .Select(path => FrameFormat.TryParseSegmentFileName(Path.GetFileName(path), out int id) ? id : 0)
            .Where(id => id > 0)
            .Order()
            .ToList();

    /// <summary>Reads the live segments and verifies every chain; throws <see cref="CorruptSegmentException"/> naming what fails.</summary>
    public static List<Segment> ReadAndVerify(string directory)
    {
        List<int> ids = ListIds(directory);
        var headers = ids.ToDictionary(id => id, id => FrameFormat.TryReadSegmentHeader(Path.Combine(directory, FrameFormat.SegmentFileName(id)))
            ?? throw new CorruptSegmentException(id, 0, "a version-1 segment header does not parse; the store is not upgraded"));
        var replaced = new HashSet<int>();
        foreach ((int id, FrameFormat.SegmentHeader header) in headers)
        {
            if (header.Version != 1)
            {
                throw new CorruptSegmentException(id, 0, $"a version-{header.Version} segment in a version-1 store; the store is not upgraded");
            }

            for (int old = header.CompactedFrom; old < id; old++)
            {
                replaced.Add(old);
            }
        }

        List<int> live = ids.Where(id => !replaced.Contains(id)).ToList();
        var segments = new List<Segment>();
        for (int i = 0; i < live.Count; i++)
        {
            FrameFormat.SegmentHeader header = headers[live[i]];
            int previous = i == 0 ? 0 : live[i - 1];
            if (header.CompactedFrom != previous + 1 && live[i] != previous + 1)
            {
                throw new CorruptSegmentException(previous + 1, 0, "a version-1 segment is missing; the store is not upgraded");
            }

            segments.Add(new Segment(live[i], header.CompactedFrom, (header.Flags & FrameFormat.SegmentFlagCompacted) != 0, ReadEvents(directory, header, isLast: i == live.Count - 1)));
        }

        Verify(segments);
        return segments;
    }

    private static List<Event> ReadEvents(string directory, FrameFormat.SegmentHeader header, bool isLast)
    {
        byte[] file = File.ReadAllBytes(Path.Combine(directory, FrameFormat.SegmentFileName(header.SegmentId)));
        var events = new List<Event>();
        var batch = new List<Event>();
        long offset = header.Length;
        while (offset < file.Length)
        {
            string? bad = null;
            if (file.Length - offset < FrameFormat.FrameHeaderSize)
            {
                bad = "a torn frame header";
            }
            else
            {
                uint length = BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan((int)offset));
                if (length == 0 || length > file.Length - offset - FrameFormat.FrameHeaderSize)
                {
                    bad = "a torn or implausible frame";
                }
                else if (!FrameFormat.CrcMatches(file.AsSpan((int)offset, (int)length + FrameFormat.FrameHeaderSize)))
                {
                    bad = "a CRC-32 mismatch";
                }
                else
                {
                    FrameFormat.FrameFields fields;
                    try
                    {
                        fields = FrameFormat.ReadBody(file.AsMemory((int)offset + FrameFormat.FrameHeaderSize, (int)length), out ReadOnlyMemory<byte> payload);
                        batch.Add(new Event(fields, payload.ToArray()));
                    }
                    catch (FormatException ex)
                    {
                        throw new CorruptSegmentException(header.SegmentId, offset, "a version-1 frame does not decode; the store is not upgraded: " + ex.Message, ex);
                    }

                    if (fields.BatchRemaining == 0)
                    {
                        events.AddRange(batch);
                        batch.Clear();
                    }

                    offset += length + FrameFormat.FrameHeaderSize;
                    continue;
                }
            }

            if (!isLast)
            {
                throw new CorruptSegmentException(header.SegmentId, offset, bad + " in a sealed version-1 segment; the store is not upgraded");
            }

            break; // a torn tail of the active segment: never acknowledged
        }

        if (batch.Count > 0 && !isLast)
        {
            throw new CorruptSegmentException(header.SegmentId, offset, "an atomic batch cut off in a sealed version-1 segment; the store is not upgraded");
        }

        return events; // an incomplete batch at the end of the active segment was never acknowledged
    }

    private static void Verify(List<Segment> segments)
    {
        using IncrementalHash sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var entities = new Dictionary<string, (long Next, EventHash Last)>(StringComparer.Ordinal);
        long nextGlobal = 0;
        foreach (Segment segment in segments)
        {
            foreach (Event e in segment.Events)
            {
                FrameFormat.FrameFields f = e.Fields;
                (long next, EventHash last) = entities.GetValueOrDefault(f.Entity, (0, EventHash.Zero));
                string? failure = f.GlobalSequence != nextGlobal
                    ? $"global sequence {f.GlobalSequence} follows {nextGlobal - 1} (events dropped by compaction, or damage): version 2 needs the hashes of dropped events, which version 1 did not keep"
                    : f.EntitySequence != next ? $"entity \"{f.Entity}\" sequence {f.EntitySequence} does not follow {next - 1}"
                    : f.PrevHash != last ? $"entity \"{f.Entity}\" sequence {f.EntitySequence}: its previous-hash link does not match"
                    : (f.Flags & (ushort)EventFlags.Tombstone) == 0 && ComputeHash(sha, f, e.Payload) != f.Hash ? $"entity \"{f.Entity}\" sequence {f.EntitySequence}: the stored hash does not match its content"
                    : null;
                if (failure is not null)
                {
                    throw new CorruptSegmentException(segment.Id, 0, "the version-1 store fails its own verification, so it is not upgraded: " + failure);
                }

                entities[f.Entity] = (next + 1, f.Hash);
                nextGlobal++;
            }
        }
    }

    /// <summary>The version-1 link: SHA-256 over the previous hash, the v1 header fields, the coordinate and the payload.</summary>
    public static EventHash ComputeHash(IncrementalHash sha, in FrameFormat.FrameFields f, ReadOnlySpan<byte> payload)
    {
        Span<byte> fixedPart = stackalloc byte[112];
        f.PrevHash.WriteBytes(fixedPart);
        f.EventId.WriteBytes(fixedPart[32..]);
        f.CorrelationId.WriteBytes(fixedPart[48..]);
        f.CausationId.WriteBytes(fixedPart[64..]);
        BinaryPrimitives.WriteInt64BigEndian(fixedPart[80..], f.GlobalSequence);
        BinaryPrimitives.WriteInt64BigEndian(fixedPart[88..], f.TimestampMicroseconds);
        BinaryPrimitives.WriteInt64BigEndian(fixedPart[96..], f.EntitySequence);
        BinaryPrimitives.WriteUInt32BigEndian(fixedPart[104..], f.Depth);
        BinaryPrimitives.WriteUInt16BigEndian(fixedPart[108..], f.Kind);
        BinaryPrimitives.WriteUInt16BigEndian(fixedPart[110..], f.Flags);
        sha.AppendData(fixedPart);
        AppendString(sha, f.Entity);
        AppendString(sha, f.Scope);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, payload.Length);
        sha.AppendData(length);
        sha.AppendData(payload);
        Span<byte> digest = stackalloc byte[EventHash.Size];
        sha.GetHashAndReset(digest);
        return EventHash.FromBytes(digest);

        static void AppendString(IncrementalHash sha, string value)
        {
            byte[] utf8 = Encoding.UTF8.GetBytes(value);
            Span<byte> prefix = stackalloc byte[4];
            BinaryPrimitives.WriteInt32BigEndian(prefix, utf8.Length);
            sha.AppendData(prefix);
            sha.AppendData(utf8);
        }
    }
}
