namespace Batpak.Storage;

/// <summary>
/// Keeps the lease of the segment read last, so consecutive reads of one segment share it. Used by one reading thread
/// at a time (an enumeration's chunk, a verification), never shared.
/// </summary>
internal sealed class ReadSession(FileHandleCache handles) : IDisposable
{
    private int _segmentId = -1;
    private FileHandleCache.Lease _lease;

    public FileHandleCache.Lease For(int segmentId)
    {
        if (segmentId != _segmentId)
        {
            Reset();
            _lease = handles.Rent(segmentId);
            _segmentId = segmentId;
        }

        return _lease;
    }

    /// <summary>Returns the lease (after a compaction moved files under it, the next read rents afresh).</summary>
    public void Reset()
    {
        if (_segmentId >= 0)
        {
            _segmentId = -1;
            _lease.Dispose();
        }
    }

    /// <summary>
    /// Asks the CPU to start loading a frame this session will read soon, when it lies in the mapped segment the
    /// session holds now (a stream's frames are scattered: reading them one by one waits for memory each time).
    /// </summary>
    public void Prefetch(in IndexEntry entry)
    {
        if (entry.SegmentId == _segmentId)
        {
            _lease.Prefetch(entry.Offset, entry.Length);
        }
    }

    public void Dispose() => Reset();
}
