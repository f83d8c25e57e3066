using System.Collections.Concurrent;
using Microsoft.Win32.SafeHandles;

namespace Batpak.Storage;

/// <summary>
/// Recovery's decode worker: sealed segments are scanned (checksums, MessagePack, names, key fingerprints) on a
/// background task into pooled chunks that the opening thread indexes in order (<c>Recover</c>). Used by open only.
/// </summary>
internal sealed partial class SegmentRecovery
{
    /// <summary>Up to <see cref="Size"/> decoded frames of a sealed segment, in pooled arrays; or a segment's compaction record; or the end of a segment; or an error.</summary>
    private sealed class SealedChunk
    {
        public const int Size = 2048;
        public FrameFormat.FrameFields[]? Frames = System.Buffers.ArrayPool<FrameFormat.FrameFields>.Shared.Rent(Size);
        public DiskPosition[]? Positions = System.Buffers.ArrayPool<DiskPosition>.Shared.Rent(Size);
        public ulong[]? KeyFingerprints = System.Buffers.ArrayPool<ulong>.Shared.Rent(Size); // 0 for frames without a key
        public int Count;
        public int SegmentId;
        public SegmentRecords.CompactionRecord? Compaction;
        public SegmentScanner.ScanResult? SegmentDone;
        public Exception? Error;

        public void Return()
        {
            if (Frames is not null)
            {
                System.Buffers.ArrayPool<FrameFormat.FrameFields>.Shared.Return(Frames, clearArray: true);
                System.Buffers.ArrayPool<DiskPosition>.Shared.Return(Positions!);
                System.Buffers.ArrayPool<ulong>.Shared.Return(KeyFingerprints!);
                Frames = null;
                Positions = null;
                KeyFingerprints = null;
            }
        }
    }

    /// <summary>The recovery worker: decodes every sealed segment in order into chunks (stops at the first error, which it passes on).</summary>
    private void DecodeSealed(List<int> ids, bool penultimateMayBeUnsealed, BlockingCollection<SealedChunk> output)
    {
        try
        {
            var interner = new StringInterner(); // owned by this worker
            for (int i = 0; i < ids.Count - 1; i++)
            {
                int id = ids[i];
                var chunk = new SealedChunk { SegmentId = id };
                using SafeFileHandle handle = File.OpenHandle(SegmentPath(id), FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                SegmentScanner.ScanResult result = SegmentScanner.Scan(
                    handle,
                    id,
                    isLast: false,
                    (ref FrameFormat.FrameFields fields, DiskPosition position, ulong keyFingerprint) =>
                    {
                        chunk.Frames![chunk.Count] = fields;
                        chunk.Positions![chunk.Count] = position;
                        chunk.KeyFingerprints![chunk.Count] = keyFingerprint;
                        if (++chunk.Count == SealedChunk.Size)
                        {
                            output.Add(chunk);
                            chunk = new SealedChunk { SegmentId = id };
                        }
                    },
                    interner,
                    _options.ChainKey,
                    record =>
                    {
                        var marker = new SealedChunk { SegmentId = id, Compaction = record }; // before any of the segment's frames
                        marker.Return();
                        output.Add(marker);
                    },
                    sealOptional: penultimateMayBeUnsealed && i == ids.Count - 2);
                chunk.SegmentDone = result;
                output.Add(chunk);
            }
        }
        catch (InvalidOperationException) when (output.IsAddingCompleted)
        {
            // The consumer stopped (it failed first): nothing more to hand over.
        }
        catch (Exception ex)
        {
            try
            {
                output.Add(new SealedChunk { Error = ex });
            }
            catch (InvalidOperationException)
            {
                // The consumer stopped meanwhile.
            }
        }
        finally
        {
            output.CompleteAdding();
        }
    }
}
