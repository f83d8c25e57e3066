// Owns the recovery scan of one segment file: header checks, then every frame's length, CRC, body, records and
// atomic batches, in buffered positional reads. Called by EventStore's recovery (EventStore.Recovery.cs,
// EventStore.RecoveryWorker.cs, EventStore.LiveSegments.cs), StoreWriter (re-checking the active segment after a
// failed batch is cut off), SegmentCompactor (its inputs), FileHandleCache (ReadExactly) and tests.
using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using MessagePack;
using Microsoft.Win32.SafeHandles;

namespace Batpak.Storage;

/// <summary>
/// Reads a segment file front to back for recovery: checks the header, then every frame's length, CRC and body,
/// handing each decoded frame to a visitor. Reads in large positional chunks (1 MiB, grown for larger frames).
/// </summary>
/// <remarks>
/// A bad frame in a sealed segment is an error naming segment and offset. In the last segment a bad frame is a
/// torn tail (cut off) only when nothing valid follows it; when a valid frame follows, the damage is in the middle
/// of acknowledged data and is reported as an error instead of being silently cut away.
/// </remarks>
internal static partial class SegmentScanner
{
    public const int MaxScannedFrameBytes = 1 << 30;
    private const int ChunkBytes = 1 << 20;

    public delegate void FrameVisitor(ref FrameFormat.FrameFields fields, DiskPosition position);

    /// <summary>A visitor that also gets, for a frame with an idempotency key, its <see cref="IdempotencyFingerprint"/> (0 for other frames).</summary>
    public delegate void KeyedFrameVisitor(ref FrameFormat.FrameFields fields, DiskPosition position, ulong keyFingerprint);

    /// <summary>The outcome of a scan.</summary>
    /// <param name="ValidEnd">The offset just past the last good frame.</param>
    /// <param name="Frames">Good event frames seen.</param>
    /// <param name="TruncationReason">Why the tail past <paramref name="ValidEnd"/> is bad, or null when the file ends cleanly.</param>
    /// <param name="Header">The segment header, or null when the last segment's header itself is torn.</param>
    /// <param name="Seal">The seal record that ends the segment, or null (only the last segment may lack one).</param>
    /// <param name="Compaction">The compaction record that opens a compaction output, or null.</param>
    public readonly record struct ScanResult(long ValidEnd, long Frames, string? TruncationReason, FrameFormat.SegmentHeader? Header, SegmentRecords.Seal? Seal = null, SegmentRecords.CompactionRecord? Compaction = null);

    /// <summary>Scans a segment without fingerprinting keyed frames; see the keyed overload.</summary>
    public static ScanResult Scan(SafeFileHandle handle, int segmentId, bool isLast, FrameVisitor visitor, StringInterner? interner = null, byte[]? chainKey = null, Action<SegmentRecords.CompactionRecord>? onCompaction = null, bool sealOptional = false) =>
        Scan(handle, segmentId, isLast, (ref FrameFormat.FrameFields fields, DiskPosition position, ulong _) => visitor(ref fields, position), interner, chainKey, onCompaction, sealOptional, fingerprintKeys: false);

    /// <summary>Scans a segment; see the class remarks.</summary>
    /// <param name="handle">The segment file.</param>
    /// <param name="segmentId">Its id (the file name's).</param>
    /// <param name="isLast">True for the active segment: a torn tail is reported, not an error, and no seal is required.</param>
    /// <param name="visitor">Gets every event frame, in file order (a batch's frames once the batch is complete), with the <see cref="IdempotencyFingerprint"/> of a keyed frame (0 for other frames, or when <paramref name="fingerprintKeys"/> is off).</param>
    /// <param name="interner">Interns entity and scope names.</param>
    /// <param name="chainKey">The store's chain key: verifies compaction-record MACs.</param>
    /// <param name="onCompaction">Gets the segment's compaction record, before any of its event frames.</param>
    /// <param name="sealOptional">Lets a sealed segment end without its seal (a crash while rotating, before the seal was written).</param>
    /// <param name="fingerprintKeys">Whether keyed frames are fingerprinted for the visitor.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs once per frame during recovery: tiering would run it unoptimized for most of an open
    public static ScanResult Scan(SafeFileHandle handle, int segmentId, bool isLast, KeyedFrameVisitor visitor, StringInterner? interner, byte[]? chainKey, Action<SegmentRecords.CompactionRecord>? onCompaction = null, bool sealOptional = false, bool fingerprintKeys = true)
    {
        long fileLength = RandomAccess.GetLength(handle);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            int headerProbe = (int)Math.Min(fileLength, FrameFormat.SegmentPreambleSize + FrameFormat.MaxSegmentHeaderBytes);
            ReadExactly(handle, buffer.AsSpan(0, headerProbe), 0, segmentId);
            FrameFormat.SegmentHeader? header = FrameFormat.TryReadSegmentHeader(buffer.AsSpan(0, headerProbe), out string? problem, out FrameFormat.HeaderProblem problemKind);
            if (header is null)
            {
                // A last segment shorter than a whole header was torn while being created: nothing was ever acknowledged in it.
                // A header torn by a crash is followed by nothing; when a good frame follows, the header was damaged
                // later (its length field, say) and recreating the file would throw acknowledged events away.
                bool tornCreation = isLast && problemKind == FrameFormat.HeaderProblem.Torn
                    && !LaterFrameExists(handle, FrameFormat.SegmentPreambleSize, fileLength, afterGlobal: -1);
                if (tornCreation)
                {
                    return new ScanResult(0, 0, "the segment header is torn: " + problem, null);
                }

                throw new CorruptSegmentException(segmentId, 0, "bad segment header: " + problem);
            }

            if (header.Value.SegmentId != segmentId)
            {
                throw new CorruptSegmentException(segmentId, 0, $"the header names segment {header.Value.SegmentId}; the file name says {segmentId}");
            }

            if (header.Value.Version != FrameFormat.FormatVersion)
            {
                throw new CorruptSegmentException(segmentId, 0, $"the segment is format version {header.Value.Version}; this build writes version {FrameFormat.FormatVersion} and upgrades a version-1 store when it is first opened for writing (not read-only)");
            }

            var records = new SegmentRecordChecks(segmentId, header.Value.Length, chainKey, onCompaction);

            long offset = header.Value.Length;
            long bufferStart = 0; // file offset of buffer[0]
            int bufferLength = headerProbe;
            long frames = 0;
            long lastGlobal = -1; // of the last good frame
            var batch = new List<(FrameFormat.FrameFields Fields, DiskPosition Position, ulong KeyFingerprint)>();
            long batchStart = -1;
            while (offset < fileLength)
            {
                string? bad = null;
                long remaining = fileLength - offset;
                uint length = 0;
                if (remaining < FrameFormat.FrameHeaderSize)
                {
                    bad = $"torn frame header ({remaining} of {FrameFormat.FrameHeaderSize} bytes)";
                }
                else
                {
                    EnsureBuffered(handle, ref buffer, ref bufferStart, ref bufferLength, offset, FrameFormat.FrameHeaderSize, fileLength, segmentId);
                    length = BinaryPrimitives.ReadUInt32BigEndian(buffer.AsSpan((int)(offset - bufferStart)));
                    if (length == 0 || length > MaxScannedFrameBytes)
                    {
                        bad = $"implausible frame length {length}";
                    }
                    else if (length > remaining - FrameFormat.FrameHeaderSize)
                    {
                        bad = $"torn frame ({remaining - FrameFormat.FrameHeaderSize} of {length} body bytes present)";
                    }
                    else
                    {
                        int frameLength = (int)length + FrameFormat.FrameHeaderSize;
                        EnsureBuffered(handle, ref buffer, ref bufferStart, ref bufferLength, offset, frameLength, fileLength, segmentId);
                        int at = (int)(offset - bufferStart);
                        ReadOnlySpan<byte> frame = buffer.AsSpan(at, frameLength);
                        if (!FrameFormat.CrcMatches(frame))
                        {
                            bad = "CRC-32 mismatch";
                        }
                        else if (SegmentRecords.IsRecord(frame[FrameFormat.FrameHeaderSize..]))
                        {
                            if (batchStart >= 0)
                            {
                                throw new CorruptSegmentException(segmentId, offset, $"a record frame inside the atomic batch that starts at offset {batchStart}");
                            }

                            records.Accept(frame[FrameFormat.FrameHeaderSize..], offset, offset + frameLength == fileLength);
                            offset += frameLength;
                            continue;
                        }
                        else
                        {
                            FrameFormat.FrameFields fields;
                            ReadOnlyMemory<byte> payload;
                            try
                            {
                                fields = FrameFormat.ReadBody(buffer.AsMemory(at + FrameFormat.FrameHeaderSize, (int)length), out payload, interner);
                            }
                            catch (Exception ex) when (ex is MessagePackSerializationException or FormatException or EndOfStreamException or OverflowException)
                            {
                                throw new CorruptSegmentException(segmentId, offset, "the frame passes its CRC but does not decode: " + ex.Message, ex);
                            }

                            var position = new DiskPosition(segmentId, offset, frameLength);
                            records.CheckEvent(ref fields, payload.Length, offset);
                            ulong keyFingerprint = fingerprintKeys && fields.IdempotencyKey is not null
                                ? IdempotencyFingerprint.Compute(fields.Entity, fields.Kind, payload.Span) // now: the buffer is reused before a batch is visited
                                : 0;
                            lastGlobal = fields.GlobalSequence;
                            if (batchStart >= 0 && fields.BatchRemaining != batch[^1].Fields.BatchRemaining - 1)
                            {
                                throw new CorruptSegmentException(segmentId, offset, $"the frame breaks the atomic batch that starts at offset {batchStart} ({batch[^1].Fields.BatchRemaining - 1} more frames expected, this one says {fields.BatchRemaining})");
                            }

                            if (fields.BatchRemaining > 0 || batchStart >= 0)
                            {
                                // Frames of an atomic batch are published only once the batch is complete.
                                if (batchStart < 0)
                                {
                                    batchStart = offset;
                                }

                                batch.Add((fields, position, keyFingerprint));
                                if (fields.BatchRemaining == 0)
                                {
                                    for (int i = 0; i < batch.Count; i++)
                                    {
                                        FrameFormat.FrameFields held = batch[i].Fields;
                                        visitor(ref held, batch[i].Position, batch[i].KeyFingerprint);
                                    }

                                    frames += batch.Count;
                                    batch.Clear();
                                    batchStart = -1;
                                }
                            }
                            else
                            {
                                visitor(ref fields, position, keyFingerprint);
                                frames++;
                            }

                            offset += frameLength;
                            continue;
                        }
                    }
                }

                if (!isLast && !sealOptional)
                {
                    throw new CorruptSegmentException(segmentId, offset, bad + " in a sealed segment");
                }

                if (records.Seal is not null)
                {
                    throw new CorruptSegmentException(segmentId, offset, bad + " after the segment's seal");
                }

                if (batchStart >= 0)
                {
                    bad += $", inside the atomic batch that starts at offset {batchStart}; the whole batch is dropped";
                }

                // The frame's own length field may be the damaged part, so look for a later frame at every offset, not
                // only where this frame claims to end.
                if (LaterFrameExists(handle, offset + 1, fileLength, lastGlobal))
                {
                    throw new CorruptSegmentException(segmentId, offset, bad + "; valid frames follow it, so this is damage inside acknowledged data, not a torn tail");
                }

                return new ScanResult(batchStart >= 0 ? batchStart : offset, frames, $"{bad} at offset {offset}", header, null, records.Compaction);
            }

            if (batchStart >= 0)
            {
                if (!isLast)
                {
                    throw new CorruptSegmentException(segmentId, batchStart, "an atomic batch is cut off by the end of a sealed segment");
                }

                return new ScanResult(batchStart, frames, $"incomplete atomic batch at offset {batchStart} ({batch.Count} of {batch.Count + batch[^1].Fields.BatchRemaining} frames present); the whole batch is dropped", header, null, records.Compaction);
            }

            records.Finish(isLast || sealOptional, offset);
            return new ScanResult(offset, frames, null, header, records.Seal, records.Compaction);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static bool TryReadExactly(SafeFileHandle handle, Span<byte> destination, long offset)
    {
        int read = 0;
        while (read < destination.Length)
        {
            int n = RandomAccess.Read(handle, destination[read..], offset + read);
            if (n == 0)
            {
                return false;
            }

            read += n;
        }

        return true;
    }

    private static void EnsureBuffered(SafeFileHandle handle, ref byte[] buffer, ref long bufferStart, ref int bufferLength, long offset, int needed, long fileLength, int segmentId)
    {
        if (offset >= bufferStart && offset + needed <= bufferStart + bufferLength)
        {
            return;
        }

        if (needed > buffer.Length)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = ArrayPool<byte>.Shared.Rent(needed);
        }

        int toRead = (int)Math.Min(buffer.Length, fileLength - offset);
        ReadExactly(handle, buffer.AsSpan(0, toRead), offset, segmentId);
        bufferStart = offset;
        bufferLength = toRead;
    }

    internal static void ReadExactly(SafeFileHandle handle, Span<byte> destination, long offset, int segmentId)
    {
        int read = 0;
        while (read < destination.Length)
        {
            int n = RandomAccess.Read(handle, destination[read..], offset + read);
            if (n == 0)
            {
                throw new CorruptSegmentException(segmentId, offset, $"unexpected end of file: read {read} of {destination.Length} bytes");
            }

            read += n;
        }
    }
}
