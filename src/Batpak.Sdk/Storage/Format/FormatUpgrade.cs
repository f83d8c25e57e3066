using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace Batpak.Storage;

/// <summary>
/// Upgrades a version-1 store to version 2 on its first open for writing (docs/FORMAT.md, "Upgrading a version-1
/// store"). The store is read and verified by version 1's rules (<see cref="FormatVersion1"/>), every event is
/// re-hashed into version 2's chain (tombstones keep their hash, as their payload is gone), each segment is rewritten
/// under its own id with a seal (and a compaction record where version 1 had compacted or tombstoned), and the new
/// files replace the old ones in a crash-safe swap; the version-1 files are kept in <c>format-v1/</c>. Called by the
/// store's constructor, under the directory lock, before recovery.
/// </summary>
internal static class FormatUpgrade
{
    /// <summary>Where the version-2 files are written; removed if a crash leaves it.</summary>
    public const string StagingFolder = "upgrade-v2.tmp";

    /// <summary>The staging folder once complete: its existence commits the upgrade, and open finishes the swap.</summary>
    public const string CommittedFolder = "upgrade-v2";

    /// <summary>Where the version-1 files go.</summary>
    public const string BackupFolder = "format-v1";

    /// <summary>Upgrades the store in <paramref name="directory"/> when it is version 1 (or finishes an upgrade a crash interrupted); returns whether it did.</summary>
    public static bool UpgradeIfNeeded(string directory, byte[]? chainKey, TimeProvider time)
    {
        string committed = Path.Combine(directory, CommittedFolder);
        string staging = Path.Combine(directory, StagingFolder);
        if (Directory.Exists(committed))
        {
            FinishSwap(directory);
            return true;
        }

        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true); // never committed: the version-1 files are all still in place
        }

        if (!FormatVersion1.IsVersion1(directory))
        {
            return false;
        }

        List<FormatVersion1.Segment> segments = FormatVersion1.ReadAndVerify(directory);
        Directory.CreateDirectory(staging);
        WriteVersion2(staging, segments, chainKey, time);
        NativeFile.SyncDirectory(staging);
        Directory.Move(staging, committed);
        NativeFile.SyncDirectory(directory);
        FinishSwap(directory);
        return true;
    }

    private static void WriteVersion2(string folder, List<FormatVersion1.Segment> segments, byte[]? chainKey, TimeProvider time)
    {
        using IncrementalHash sha = ChainHashing.Create(chainKey);
        using var chain = new GlobalChain(chainKey);
        var heads = new Dictionary<string, EventHash>(StringComparer.Ordinal);
        ulong keyCheck = ChainHashing.KeyCheck(chainKey);
        long created = (time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks / 10;
        for (int s = 0; s < segments.Count; s++)
        {
            FormatVersion1.Segment segment = segments[s];
            bool last = s == segments.Count - 1;
            long first = chain.Next;
            using var file = new PooledBufferWriter(1 << 16);
            FrameFormat.WriteSegmentHeader(file, segment.Id, created, segment.Compacted ? FrameFormat.SegmentFlagCompacted : 0, keyCheck);
            List<long> tombstones = segment.Events.Where(IsTombstone).Select(e => e.Fields.GlobalSequence).ToList();
            if (segment.CompactedFrom < segment.Id || tombstones.Count > 0)
            {
                SegmentRecords.WriteCompaction(file, new SegmentRecords.CompactionRecord(segment.CompactedFrom, first, first + segment.Events.Count, [], tombstones), chainKey);
            }

            foreach (FormatVersion1.Event e in segment.Events)
            {
                FrameFormat.FrameFields fields = e.Fields;
                fields.PrevHash = heads.GetValueOrDefault(fields.Entity, EventHash.Zero);
                if (!IsTombstone(e))
                {
                    fields.Hash = FrameFormat.ComputeHash(sha, fields, e.Payload); // a tombstone keeps its hash: its payload is gone
                }

                FrameFormat.WriteFrame(file, fields, e.Payload);
                heads[fields.Entity] = fields.Hash;
                chain.Add(fields.Hash);
            }

            if (!last)
            {
                SegmentRecords.WriteSeal(file, new SegmentRecords.Seal(segment.Id, first, chain.Next, chain.Head()));
            }

            string path = Path.Combine(folder, FrameFormat.SegmentFileName(segment.Id));
            using SafeFileHandle handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
            RandomAccess.Write(handle, file.WrittenSpan, 0);
            NativeFile.Sync(handle, SyncMode.All);
        }

        static bool IsTombstone(FormatVersion1.Event e) => (e.Fields.Flags & (ushort)EventFlags.Tombstone) != 0;
    }

    /// <summary>
    /// Moves every version-1 segment file to <see cref="BackupFolder"/> and every committed version-2 file into
    /// place. Each step can be repeated, so a crash anywhere here is finished by the next open.
    /// </summary>
    private static void FinishSwap(string directory)
    {
        string committed = Path.Combine(directory, CommittedFolder);
        string backup = Path.Combine(directory, BackupFolder);
        Directory.CreateDirectory(backup);
        var upgraded = Directory.EnumerateFiles(committed, "*" + FrameFormat.SegmentExtension).Select(path => Path.GetFileName(path)).ToHashSet(StringComparer.Ordinal);
        foreach (int id in FormatVersion1.ListIds(directory))
        {
            string path = Path.Combine(directory, FrameFormat.SegmentFileName(id));
            if (FrameFormat.TryReadSegmentHeader(path) is not { Version: FrameFormat.FormatVersion })
            {
                File.Move(path, Path.Combine(backup, Path.GetFileName(path)), overwrite: true);
            }
        }

        NativeFile.SyncDirectory(backup);
        foreach (string name in upgraded)
        {
            File.Move(Path.Combine(committed, name), Path.Combine(directory, name), overwrite: true);
        }

        NativeFile.SyncDirectory(directory);
        Directory.Delete(committed);
        NativeFile.SyncDirectory(directory);
    }
}
