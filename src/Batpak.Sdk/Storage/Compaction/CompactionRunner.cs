using Microsoft.Win32.SafeHandles;

namespace Batpak.Storage;

/// <summary>
/// Runs a compaction of the embedded engine: groups adjacent sealed segments up to <see cref="BatpakOptions.SegmentMaxBytes"/>,
/// has <see cref="SegmentCompactor"/> write each group's output beside the store, then swaps it in under the writer's
/// exclusive section (rename, index moves, deletes, directory fsyncs). One compaction at a time; called by
/// <see cref="SegmentEngine"/> only.
/// </summary>
internal sealed class CompactionRunner(
    BatpakOptions options, string directory, DirectoryLock directoryLock, StoreWriter writer, StoreIndex index,
    FileHandleCache handles, SegmentReader reader, TimeProvider time, StoreTelemetry telemetry)
{
    private readonly Lock _compactionLock = new(); // one compaction at a time
    private readonly BatpakOptions _options = options;
    private readonly string _directory = directory;
    private readonly DirectoryLock _lock = directoryLock;
    private readonly StoreWriter _writer = writer;
    private readonly StoreIndex _index = index;
    private readonly FileHandleCache _handles = handles;
    private readonly SegmentReader _reader = reader;
    private readonly TimeProvider _time = time;
    private readonly StoreTelemetry _telemetry = telemetry;

    private string SegmentPath(int segmentId) => SegmentFiles.PathOf(_directory, segmentId);

    /// <summary>Merges adjacent sealed segments and applies <paramref name="options"/>' retention; see <see cref="IEventStore.Compact"/>.</summary>
    public CompactionResult Compact(CompactionOptions options)
    {
        lock (_compactionLock)
        {
            _lock.EnsureHeld(); // compaction writes, renames and deletes files by path
            int activeId = _writer.ActiveSegmentId;
            var groups = new List<List<int>>();
            List<int>? current = null;
            long currentBytes = 0;
            int previous = -1;
            foreach ((int id, long bytes) in SegmentFiles.List(_directory).Where(s => s.Id < activeId))
            {
                bool adjacent = previous >= 0 && IsNextSegment(previous, id);
                if (current is null || !adjacent || currentBytes + bytes > _options.SegmentMaxBytes)
                {
                    current = [];
                    currentBytes = 0;
                    groups.Add(current);
                }

                current.Add(id);
                currentBytes += bytes;
                previous = id;
            }

            int before = 0;
            int after = 0;
            long kept = 0, dropped = 0, tombstoned = 0, bytesBefore = 0, bytesAfter = 0;
            foreach (List<int> group in groups)
            {
                if (group.Count == 1 && options.Retain is null)
                {
                    continue; // nothing to merge and nothing to drop
                }

                (string temporary, SegmentCompactor.GroupResult result) = SegmentCompactor.WriteGroup(
                    _directory, group, options, _time, _options.ChainKey, Materialize);
                _writer.RunExclusive(() => SwapIn(group, temporary, result));
                before += group.Count;
                after++;
                kept += result.Kept;
                dropped += result.Dropped;
                tombstoned += result.Tombstoned;
                bytesBefore += result.BytesBefore;
                bytesAfter += result.BytesAfter;
            }

            var compaction = new CompactionResult(before, after, kept, dropped, tombstoned, bytesBefore, bytesAfter);
            if (before > 0)
            {
                _telemetry.Compacted(compaction);
            }

            return compaction;
        }
    }

    private void SwapIn(List<int> group, string temporary, SegmentCompactor.GroupResult result)
    {
        int hi = group[^1];
        _lock.EnsureHeld();
        _reader.Compacting = true;
        try
        {
            foreach (int id in group)
            {
                _handles.Evict(id);
            }

            File.Move(temporary, SegmentPath(hi), overwrite: true);
            NativeFile.SyncDirectory(_directory);
            _handles.Evict(hi); // a reader may have reopened the old file between the first eviction and the rename
            lock (_index.SyncRoot)
            {
                _index.ApplyCompactionLocked(result.Moves);
                _index.RecordDroppedLocked(result.NewlyDropped);
            }

            for (int i = 0; i < group.Count - 1; i++)
            {
                File.Delete(SegmentPath(group[i]));
            }

            NativeFile.SyncDirectory(_directory);
        }
        finally
        {
            _reader.Compacting = false;
        }
    }

    /// <summary>A frame the compactor keeps or drops, as the event retention rules judge.</summary>
    private static StoredEvent Materialize(FrameFormat.FrameFields fields, ReadOnlyMemory<byte> payload, DiskPosition position) =>
        new(Coordinate.FromTrusted(fields.Entity, fields.Scope), FrameFormat.ToHeader(fields), payload.ToArray(), position, fields.IdempotencyKey, fields.BypassReason);

    /// <summary>True when segment <paramref name="next"/> directly follows <paramref name="previous"/> (adjacent ids, or a compaction output that replaced the ids between).</summary>
    private bool IsNextSegment(int previous, int next)
    {
        if (next == previous + 1)
        {
            return true;
        }

        using SafeFileHandle handle = File.OpenHandle(SegmentPath(next), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        return FrameFormat.TryReadSegmentHeader(handle, out _) is { } header
            && SegmentScanner.TryReadCompactionRange(handle, header)?.ReplacesFrom == previous + 1;
    }
}
