namespace Batpak.Storage;

// The active segment's way back after a failed batch (restart, or clean-up when the writer faults for good) and the
// snapshot copy of the acknowledged segments. Called only by StoreWriter under the write lock.
internal sealed partial class ActiveSegment
{
    /// <summary>
    /// The file side of a restart: puts the active segment back exactly as it was at <paramref name="start"/> (cut
    /// what the batch wrote, delete every segment the batch created and any file a failed rotation left behind),
    /// fsyncs, and re-reads the segment to prove every acknowledged frame is intact. False when any step fails or the
    /// re-read does not end where the batch started; the writer then stays faulted.
    /// </summary>
    public bool TryRollBack(in SegmentMark start)
    {
        try
        {
            if (_id != start.Id)
            {
                EnsureDirectoryHeld?.Invoke();
                _handle.Dispose();
            }

            // Every segment past the batch's first: the ones it created, and a file a failed rotation left behind.
            bool deleted = false;
            foreach (string file in Directory.EnumerateFiles(_directory, "*" + FrameFormat.SegmentExtension))
            {
                if (FrameFormat.TryParseSegmentFileName(Path.GetFileName(file), out int id) && id > start.Id)
                {
                    File.Delete(file);
                    deleted = true;
                }
            }

            if (deleted)
            {
                NativeFile.SyncDirectory(_directory);
            }

            if (_id != start.Id)
            {
                _handle = File.OpenHandle(Path.Combine(_directory, FrameFormat.SegmentFileName(start.Id)), FileMode.Open, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
                Volatile.Write(ref _id, start.Id);
            }

            FaultInjector?.Invoke("restart");
            RandomAccess.SetLength(_handle, start.Tail);
            NativeFile.Sync(_handle, SyncMode.All);
            SegmentScanner.ScanResult check = SegmentScanner.Scan(_handle, _id, isLast: true, static (ref FrameFormat.FrameFields _, DiskPosition _) => { });
            if (check.ValidEnd != start.Tail || check.TruncationReason is not null)
            {
                return false;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or BatpakException)
        {
            return false;
        }

        Tail = start.Tail;
        HeaderLength = start.HeaderLength;
        First = start.First;
        _unsynced = 0;
        return true;
    }

    /// <summary>
    /// When the writer faults for good, cuts off whatever of the failed batch reached the active segment (a write can
    /// fail halfway, after some whole frames went in), so a reopen does not bring back appends whose callers got
    /// <see cref="WriterCrashedException"/>. Best effort: when the disk refuses this too, or the batch rotated into a
    /// new segment, recovery sees those frames as written.
    /// </summary>
    public void DiscardUnacknowledged(in SegmentMark start)
    {
        if (_id != start.Id)
        {
            return;
        }

        try
        {
            // The file length, not Tail: a write that failed halfway did not advance Tail.
            if (RandomAccess.GetLength(_handle) > start.Tail)
            {
                RandomAccess.SetLength(_handle, start.Tail);
                Tail = start.Tail;
                NativeFile.Sync(_handle, SyncMode.All);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The writer is faulted already; the original error is the one reported.
        }
    }

    /// <summary>
    /// Copies every live segment up to the active one into <paramref name="destination"/>: sealed ones whole, the
    /// active one up to <see cref="Tail"/> (exactly the acknowledged prefix). The snapshot command; the caller fsyncs
    /// first.
    /// </summary>
    public void CopyTo(string destination)
    {
        // The live segments from the directory, not every id from 1: ids can be large (compaction leaves gaps below).
        var ids = new List<int>();
        foreach (string file in Directory.EnumerateFiles(_directory, "*" + FrameFormat.SegmentExtension))
        {
            if (FrameFormat.TryParseSegmentFileName(Path.GetFileName(file), out int found) && found <= _id)
            {
                ids.Add(found);
            }
        }

        ids.Sort();
        foreach (int id in ids)
        {
            string source = Path.Combine(_directory, FrameFormat.SegmentFileName(id));

            string target = Path.Combine(destination, FrameFormat.SegmentFileName(id));
            if (id < _id)
            {
                File.Copy(source, target, overwrite: false);
            }
            else
            {
                // The active segment: copy exactly the acknowledged prefix.
                using FileStream input = new(source, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using FileStream output = new(target, FileMode.CreateNew, FileAccess.Write);
                byte[] chunk = new byte[1 << 16];
                long left = Tail;
                while (left > 0)
                {
                    int n = input.Read(chunk, 0, (int)Math.Min(chunk.Length, left));
                    if (n == 0)
                    {
                        break;
                    }

                    output.Write(chunk, 0, n);
                    left -= n;
                }

                output.Flush(flushToDisk: true);
            }
        }
    }
}
