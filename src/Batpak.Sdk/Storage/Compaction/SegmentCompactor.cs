using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace Batpak.Storage;

/// <summary>
/// Rewrites a run of adjacent sealed segments <c>[lo..hi]</c> into one new segment with id <c>hi</c>: header, the
/// compaction record (what the output replaces, the events it dropped with their hashes and keys, the tombstones it
/// holds), the kept frames, and a seal carrying the inputs' global range and chain head, which compaction never
/// changes (docs/FORMAT.md, "Compaction").
/// </summary>
/// <remarks>
/// <para>Crash safety, step by step: the output is written to <c>{hi}.fbat.compact</c> and fsynced (a crash leaves
/// only that temporary file, which open deletes); it is renamed over <c>{hi}.fbat</c> and the folder fsynced (a crash
/// now leaves the output plus the old <c>lo..hi-1</c> files, which open deletes once the output's record and seal
/// verify and each old file lies inside its range); then the old files are deleted.</para>
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
        public readonly List<SegmentRecords.DroppedEvent> NewlyDropped = new();
        public long Kept;
        public long Dropped;
        public long Tombstoned;
        public long BytesBefore;
        public long BytesAfter;
    }

    private sealed record Input(int Id, List<DiskPosition> Frames, SegmentRecords.CompactionRecord? Record, SegmentRecords.Seal Seal);

    /// <summary>Writes the compacted output of <paramref name="ids"/> to a temporary file and returns its path and the moves.</summary>
    public static (string TemporaryPath, GroupResult Result) WriteGroup(string directory, IReadOnlyList<int> ids, CompactionOptions options, TimeProvider time, byte[]? chainKey, Func<FrameFormat.FrameFields, ReadOnlyMemory<byte>, DiskPosition, StoredEvent> materialize)
    {
        int hi = ids[^1];
        var result = new GroupResult();
        List<Input> inputs = ids.Select(id => ReadInput(directory, id, chainKey, result)).ToList();
        var dropped = inputs.SelectMany(i => i.Record?.Dropped ?? []).ToList();
        var tombstones = new SortedSet<long>(inputs.SelectMany(i => i.Record?.Tombstones ?? []));

        // Pass 1: what happens to each frame (retention sees the event as a reader would).
        var outcomes = new List<StoreIndex.CompactionOutcome[]>();
        foreach (Input input in inputs)
        {
            var decided = new StoreIndex.CompactionOutcome[input.Frames.Count];
            if (options.Retain is { } retain)
            {
                ForEachFrame(directory, input, (i, fields, payload, position) =>
                {
                    if ((fields.Flags & (ushort)EventFlags.Tombstone) != 0 || retain(materialize(fields, payload, position)))
                    {
                        return;
                    }

                    if (options.Mode == CompactionMode.Tombstone)
                    {
                        decided[i] = StoreIndex.CompactionOutcome.Tombstoned;
                        tombstones.Add(fields.GlobalSequence);
                        return;
                    }

                    decided[i] = StoreIndex.CompactionOutcome.Dropped;
                    ulong fingerprint = fields.IdempotencyKey is null ? 0 : IdempotencyFingerprint.Compute(fields.Entity, fields.Kind, payload.Span);
                    var gone = new SegmentRecords.DroppedEvent(fields.GlobalSequence, fields.EntitySequence, fields.EventId, fields.Entity, fields.Kind, fields.Hash, fields.IdempotencyKey, fingerprint);
                    dropped.Add(gone);
                    result.NewlyDropped.Add(gone);
                    result.Dropped++;
                    result.Moves.Add((fields.GlobalSequence, fields.EventId, default, StoreIndex.CompactionOutcome.Dropped, fields.IdempotencyKey));
                });
            }

            outcomes.Add(decided);
        }

        dropped.Sort(static (a, b) => a.GlobalSequence.CompareTo(b.GlobalSequence));
        var record = new SegmentRecords.CompactionRecord(
            inputs[0].Record?.ReplacesFrom ?? inputs[0].Id,
            inputs[0].Record?.FirstGlobal ?? inputs[0].Seal.FirstGlobal,
            inputs[^1].Seal.NextGlobal,
            dropped,
            [.. tombstones]);

        // Pass 2: header, record, kept frames, seal.
        string temporary = Path.Combine(directory, FrameFormat.SegmentFileName(hi) + TemporaryExtension);
        using var buffer = new PooledBufferWriter(1 << 20);
        using SafeFileHandle output = File.OpenHandle(temporary, FileMode.Create, FileAccess.ReadWrite, FileShare.None);
        FrameFormat.WriteSegmentHeader(buffer, hi, (time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks / 10, FrameFormat.SegmentFlagCompacted, ChainHashing.KeyCheck(chainKey));
        SegmentRecords.WriteCompaction(buffer, record, chainKey);
        long tail = 0;
        for (int n = 0; n < inputs.Count; n++)
        {
            StoreIndex.CompactionOutcome[] decided = outcomes[n];
            ForEachFrame(directory, inputs[n], (i, fields, payload, _) =>
            {
                StoreIndex.CompactionOutcome outcome = decided[i];
                if (outcome == StoreIndex.CompactionOutcome.Dropped)
                {
                    return;
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
            });
        }

        SegmentRecords.WriteSeal(buffer, inputs[^1].Seal with { SegmentId = hi, FirstGlobal = record.FirstGlobal });
        RandomAccess.Write(output, buffer.WrittenSpan, tail);
        tail += buffer.WrittenCount;
        NativeFile.Sync(output, SyncMode.All);
        result.BytesAfter = tail;
        return (temporary, result);
    }

    /// <summary>Scans one input whole (its seal is required) and lists its frames.</summary>
    private static Input ReadInput(string directory, int id, byte[]? chainKey, GroupResult result)
    {
        using SafeFileHandle input = File.OpenHandle(Path.Combine(directory, FrameFormat.SegmentFileName(id)), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        result.BytesBefore += RandomAccess.GetLength(input);
        var frames = new List<DiskPosition>();
        SegmentScanner.ScanResult scanned = SegmentScanner.Scan(input, id, isLast: false, (ref FrameFormat.FrameFields _, DiskPosition position) => frames.Add(position), chainKey: chainKey);
        return new Input(id, frames, scanned.Compaction, scanned.Seal!.Value);
    }

    private delegate void FrameAction(int index, FrameFormat.FrameFields fields, ReadOnlyMemory<byte> payload, DiskPosition position);

    private static void ForEachFrame(string directory, Input input, FrameAction action)
    {
        using SafeFileHandle handle = File.OpenHandle(Path.Combine(directory, FrameFormat.SegmentFileName(input.Id)), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        for (int i = 0; i < input.Frames.Count; i++)
        {
            DiskPosition position = input.Frames[i];
            byte[] raw = ArrayPool<byte>.Shared.Rent(position.Length);
            try
            {
                SegmentScanner.ReadExactly(handle, raw.AsSpan(0, position.Length), position.Offset, input.Id);
                if (!FrameFormat.CrcMatches(raw.AsSpan(0, position.Length)))
                {
                    throw new CorruptSegmentException(input.Id, position.Offset, "CRC-32 mismatch while compacting");
                }

                FrameFormat.FrameFields fields = FrameFormat.ReadBody(raw.AsMemory(FrameFormat.FrameHeaderSize, position.Length - FrameFormat.FrameHeaderSize), out ReadOnlyMemory<byte> payload);
                action(i, fields, payload, position);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(raw);
            }
        }
    }
}
