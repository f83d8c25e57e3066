using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace Batpak.Storage;

/// <summary>
/// Rewrites a run of adjacent sealed segments <c>[lo..hi]</c> into one new segment with id <c>hi</c> whose header
/// says it replaces everything from <c>lo</c> on.
/// </summary>
/// <remarks>
/// <para>Crash safety, step by step: the output is written to <c>{hi}.fbat.compact</c> and fsynced (a crash leaves
/// only that temporary file, which open deletes); it is renamed over <c>{hi}.fbat</c> and the folder fsynced (a crash
/// now leaves the output plus the old <c>lo..hi-1</c> files, which open deletes because the output's header says
/// it replaces them); then the old files are deleted. At every point the directory opens as a complete store.</para>
/// <para>Concurrency: sealed segments are immutable, so reading them needs no lock. The swap (rename, delete,
/// index update) runs under the writer's lock, so appends and snapshots wait for it, and readers that raced with
/// it retry against the updated index.</para>
/// </remarks>
internal static class SegmentCompactor
{
    public const string TemporaryExtension = ".compact";

    public sealed class GroupResult
    {
        public readonly List<(long GlobalSequence, EventId Id, DiskPosition Position, StoreIndex.CompactionOutcome Outcome, string? IdempotencyKey)> Moves = new();
        public long Kept;
        public long Dropped;
        public long Tombstoned;
        public long BytesBefore;
        public long BytesAfter;
    }

    /// <summary>Writes the compacted output of <paramref name="ids"/> to a temporary file and returns its path and the moves.</summary>
    public static (string TemporaryPath, GroupResult Result) WriteGroup(string directory, IReadOnlyList<int> ids, CompactionOptions options, TimeProvider time, Func<FrameFormat.FrameFields, ReadOnlyMemory<byte>, DiskPosition, StoredEvent> materialize)
    {
        int lo = ids[0];
        int hi = ids[^1];
        string temporary = Path.Combine(directory, FrameFormat.SegmentFileName(hi) + TemporaryExtension);
        var result = new GroupResult();
        int compactedFrom = FrameFormat.TryReadSegmentHeader(Path.Combine(directory, FrameFormat.SegmentFileName(lo)))?.CompactedFrom ?? lo;

        using var buffer = new PooledBufferWriter(1 << 20);
        using SafeFileHandle output = File.OpenHandle(temporary, FileMode.Create, FileAccess.ReadWrite, FileShare.None);
        long tail = FrameFormat.WriteSegmentHeader(buffer, hi, (time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks / 10, compactedFrom, FrameFormat.SegmentFlagCompacted);
        RandomAccess.Write(output, buffer.WrittenSpan, 0);
        buffer.Reset();

        foreach (int id in ids)
        {
            string path = Path.Combine(directory, FrameFormat.SegmentFileName(id));
            using SafeFileHandle input = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            result.BytesBefore += RandomAccess.GetLength(input);
            var frames = new List<DiskPosition>();
            SegmentScanner.Scan(input, id, isLast: false, (ref FrameFormat.FrameFields _, DiskPosition position) => frames.Add(position));
            foreach (DiskPosition position in frames)
            {
                byte[] raw = ArrayPool<byte>.Shared.Rent(position.Length);
                try
                {
                    SegmentScanner.ReadExactly(input, raw.AsSpan(0, position.Length), position.Offset, id);
                    if (!FrameFormat.CrcMatches(raw.AsSpan(0, position.Length)))
                    {
                        throw new CorruptSegmentException(id, position.Offset, "CRC-32 mismatch while compacting");
                    }

                    FrameFormat.FrameFields fields = FrameFormat.ReadBody(raw.AsMemory(FrameFormat.FrameHeaderSize, position.Length - FrameFormat.FrameHeaderSize), out ReadOnlyMemory<byte> payload);
                    StoreIndex.CompactionOutcome outcome = StoreIndex.CompactionOutcome.Kept;
                    bool alreadyTombstone = (fields.Flags & (ushort)EventFlags.Tombstone) != 0;
                    if (!alreadyTombstone && options.Retain is { } retain && !retain(materialize(fields, payload, position)))
                    {
                        outcome = options.Mode == CompactionMode.Tombstone ? StoreIndex.CompactionOutcome.Tombstoned : StoreIndex.CompactionOutcome.Dropped;
                    }

                    if (outcome == StoreIndex.CompactionOutcome.Dropped)
                    {
                        result.Dropped++;
                        result.Moves.Add((fields.GlobalSequence, fields.EventId, default, outcome, fields.IdempotencyKey));
                        continue;
                    }

                    // Batches are complete in sealed segments, so the batch marker is cleared (retention may split a batch).
                    fields.BatchRemaining = 0;
                    ReadOnlySpan<byte> keptPayload = payload.Span;
                    if (outcome == StoreIndex.CompactionOutcome.Tombstoned)
                    {
                        fields.Flags |= (ushort)EventFlags.Tombstone;
                        keptPayload = default;
                        result.Tombstoned++;
                    }
                    else
                    {
                        result.Kept++;
                    }

                    int frameStart = buffer.WrittenCount;
                    int length = FrameFormat.WriteFrame(buffer, fields, keptPayload);
                    result.Moves.Add((fields.GlobalSequence, fields.EventId, new DiskPosition(hi, tail + frameStart, length), outcome, fields.IdempotencyKey));
                    if (buffer.WrittenCount >= 1 << 20)
                    {
                        RandomAccess.Write(output, buffer.WrittenSpan, tail);
                        tail += buffer.WrittenCount;
                        buffer.Reset();
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(raw);
                }
            }
        }

        RandomAccess.Write(output, buffer.WrittenSpan, tail);
        tail += buffer.WrittenCount;
        NativeFile.Sync(output, SyncMode.All);
        result.BytesAfter = tail;
        return (temporary, result);
    }
}
