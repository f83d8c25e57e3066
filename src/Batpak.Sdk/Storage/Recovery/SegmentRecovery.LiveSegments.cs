using Microsoft.Win32.SafeHandles;

namespace Batpak.Storage;

/// <summary>
/// Which segment files are the store at open: the key check of every header, a compaction's leftover inputs removed
/// only on the word of its verified record, and ids that run from 1 without a gap. Used by open only.
/// </summary>
internal sealed partial class SegmentRecovery
{
    /// <summary>
    /// The ids of the segments that hold the store's events, ascending. Checks every header's key check value, and
    /// removes the files a compaction output replaced (deleting them when <paramref name="repair"/> is set) once the
    /// output's compaction record and seal verify and every replaced file lies inside the output's range. A missing
    /// segment, first one included, is a <see cref="CorruptSegmentException"/>.
    /// </summary>
    private List<int> LiveSegmentIds(bool repair)
    {
        if (repair)
        {
            _lock!.EnsureHeld(); // the path is still the locked directory: files are deleted next
            foreach (string leftover in Directory.EnumerateFiles(_directory, "*" + FrameFormat.SegmentExtension + SegmentCompactor.TemporaryExtension))
            {
                File.Delete(leftover); // a compaction output never renamed into place: the files it was made from are all there
            }
        }

        List<int> ids = SegmentFiles.List(_directory).Select(s => s.Id).ToList();
        ulong keyCheck = ChainHashing.KeyCheck(_options.ChainKey);
        var ranges = new Dictionary<int, SegmentRecords.CompactionRange>(); // by output id; read without decoding the dropped events
        foreach (int id in ids)
        {
            using SafeFileHandle handle = File.OpenHandle(SegmentPath(id), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            FrameFormat.SegmentHeader? header = FrameFormat.TryReadSegmentHeader(handle, out _);
            if (header is not { } h || h.Version != FrameFormat.FormatVersion)
            {
                continue; // the scan reports it
            }

            if (h.KeyCheck != keyCheck)
            {
                throw new ChainKeyMismatchException(_directory, id, h.IsKeyed, _options.ChainKey is not null);
            }

            if ((h.Flags & FrameFormat.SegmentFlagCompacted) != 0 && SegmentScanner.TryReadCompactionRange(handle, h) is { } range)
            {
                ranges[id] = range;
            }
        }

        var replaced = new HashSet<int>();
        foreach ((int output, SegmentRecords.CompactionRange range) in ranges)
        {
            List<int> leftovers = ids.Where(id => id >= range.ReplacesFrom && id < output).ToList();
            if (leftovers.Count > 0)
            {
                CheckLeftovers(output, range, leftovers);
                replaced.UnionWith(leftovers);
                if (repair)
                {
                    foreach (int id in leftovers)
                    {
                        File.Delete(SegmentPath(id));
                    }

                    NativeFile.SyncDirectory(_directory);
                }
            }
        }

        ids.RemoveAll(replaced.Contains);
        for (int i = 0; i < ids.Count; i++)
        {
            int previous = i == 0 ? 0 : ids[i - 1];
            bool follows = ids[i] == previous + 1 || (ranges.TryGetValue(ids[i], out SegmentRecords.CompactionRange r) && r.ReplacesFrom == previous + 1);
            if (!follows)
            {
                throw new CorruptSegmentException(previous + 1, 0, i == 0
                    ? $"the segment file is missing: the store's first segment is {FrameFormat.SegmentFileName(ids[0])}, and nothing says the segments before it were compacted into it"
                    : $"the segment file is missing: the directory has {FrameFormat.SegmentFileName(previous)} and {FrameFormat.SegmentFileName(ids[i])} but nothing between them");
            }
        }

        return ids;
    }

    /// <summary>
    /// Before open drops files a compaction replaced: the output must scan whole with its seal (its compaction record
    /// decoded and, under a chain key, its MAC verified), its record must say what <paramref name="peeked"/> said, and
    /// every leftover must be a sealed segment whose range lies inside the output's. Otherwise nothing is deleted and
    /// open fails.
    /// </summary>
    private void CheckLeftovers(int output, SegmentRecords.CompactionRange peeked, List<int> leftovers)
    {
        SegmentRecords.CompactionRecord record = ScanSealed(output).Compaction ?? throw new CorruptSegmentException(output, 0, "the compaction output has no compaction record; nothing was deleted");
        if (new SegmentRecords.CompactionRange(record.ReplacesFrom, record.FirstGlobal, record.NextGlobal) != peeked)
        {
            throw new CorruptSegmentException(output, 0, "the compaction record changed while the store was opening; nothing was deleted");
        }

        foreach (int id in leftovers)
        {
            SegmentRecords.Seal seal = ScanSealed(id).Seal!.Value;
            if (seal.FirstGlobal < record.FirstGlobal || seal.NextGlobal > record.NextGlobal)
            {
                throw new CorruptSegmentException(id, 0, $"segment {FrameFormat.SegmentFileName(output)} says it replaces this segment, but this segment's events ({seal.FirstGlobal}..{seal.NextGlobal - 1}) lie outside its range ({record.FirstGlobal}..{record.NextGlobal - 1}); nothing was deleted");
            }
        }

        SegmentScanner.ScanResult ScanSealed(int id)
        {
            using SafeFileHandle handle = File.OpenHandle(SegmentPath(id), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            return SegmentScanner.Scan(handle, id, isLast: false, static (ref FrameFormat.FrameFields _, DiskPosition _) => { }, chainKey: _options.ChainKey);
        }
    }

    /// <summary>True when the segment holds no frame: its file ends at its header, or inside a header torn while it was created.</summary>
    private bool HoldsNoFrames(int id)
    {
        using SafeFileHandle handle = File.OpenHandle(SegmentPath(id), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        FrameFormat.SegmentHeader? header = FrameFormat.TryReadSegmentHeader(handle, out FrameFormat.HeaderProblem problem);
        return header is null ? problem == FrameFormat.HeaderProblem.Torn : RandomAccess.GetLength(handle) <= header.Value.Length;
    }
}
