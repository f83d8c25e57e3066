using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Batpak.Storage;

/// <summary>
/// Batch staging: validates each append of the batch being written against the index and the events staged before
/// it (CAS expectation, idempotency key, cause, size), stamps it (global and entity sequence, id, hybrid clock, chain
/// hash), encodes its frame into the batch buffer and records it in <see cref="Staged"/>, rotating the active segment
/// when the next frame would not fit. Called only by <see cref="StoreWriter"/>'s batch loop, under the write lock
/// (held by the writer thread or by a synchronous caller writing a batch itself).
/// </summary>
/// <remarks>Nothing here reaches the index or a reader: the batch loop writes the buffer, publishes
/// <see cref="Staged"/> and answers the callers. Atomic batches (<see cref="StageBatch"/>) and their validation are
/// in BatchStager.AtomicBatch.cs.</remarks>
internal sealed partial class BatchStager : IDisposable
{
    private readonly BatpakOptions _options; // size limits and SegmentMaxBytes
    private readonly StoreIndex _index; // read through its writer-side look-ups (no lock: only the write-lock holder mutates it)
    private readonly TimeProvider _time; // event timestamps and the hybrid clock's wall time
    private readonly ActiveSegment _segment; // where frames go: its tail and id fix each entry's position; rotated from here
    private readonly EventIdGenerator _ids; // event ids (UUIDv7)
    private readonly PooledBufferWriter _buffer = new(256 * 1024); // the batch's encoded frames not written yet
    private readonly IncrementalHash _sha; // the chain hash: SHA-256, or HMAC-SHA256 under the chain key
    private HybridClock _clock; // wall and counter of the last stamped event; taken only once an event is staged
    private long _nextGlobal; // the global sequence of the next staged event (runs ahead of the index by the batch's events)
    private readonly List<StagedEvent> _staged = new(); // this batch's events in order; cleared by the batch loop once published
    // This batch's events per entity the index does not know yet: last staged sequence and hash. Known entities keep
    // theirs in EntityStream.Pending* (stamped with _batchNumber), so staging needs no look-up table of its own.
    private readonly Dictionary<string, (long Sequence, EventHash Hash)> _pendingEntities = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _validationSequences = new(StringComparer.Ordinal); // ValidateBatch's scratch: entity -> sequence after the events checked so far
    private long _batchNumber; // stamps EntityStream.Pending*: values of another batch are stale
    private readonly Dictionary<string, int> _pendingKeys = new(StringComparer.Ordinal); // idempotency key -> index in _staged of the event staged with it this batch
    private bool _inBatch; // an atomic batch is being staged: it never rotates between its frames (StageBatch rotates before)

    public BatchStager(BatpakOptions options, StoreIndex index, TimeProvider time, ActiveSegment segment)
    {
        _options = options;
        _index = index;
        _time = time;
        _segment = segment;
        _ids = new EventIdGenerator(time);
        _sha = ChainHashing.Create(options.ChainKey);
        ResetFromIndex();
    }

    /// <summary>This batch's staged events, in order. The batch loop publishes and clears them.</summary>
    public List<StagedEvent> Staged => _staged;

    /// <summary>This batch's encoded frames not yet written to the active segment (rotation writes a prefix of them).</summary>
    public PooledBufferWriter Buffer => _buffer;

    /// <summary>The global sequence the next staged event gets.</summary>
    public long NextGlobal => _nextGlobal;

    /// <summary>
    /// Set when a check fails against an event staged earlier in this batch (not visible yet, and never if the write
    /// fails), so the batch loop reports that failure only once the batch's outcome is known. The loop clears it
    /// before each command.
    /// </summary>
    public bool FailureAwaitsBatch { get; set; }

    /// <summary>An atomic batch failed after part of it was staged: the whole batch is failed (and may be restarted from).</summary>
    public bool StagingAborted { get; private set; }

    /// <summary>Starts a batch: nothing staged, nothing buffered, no pending sequences or keys.</summary>
    public void BeginBatch()
    {
        _buffer.Reset();
        _staged.Clear();
        _pendingEntities.Clear();
        _batchNumber++;
        _pendingKeys.Clear();
        StagingAborted = false;
    }

    /// <summary>Takes the next global sequence and the clock from the index: on open, and after a restart dropped a batch.</summary>
    public void ResetFromIndex()
    {
        _nextGlobal = _index.NextGlobalSequence;
        _clock = new HybridClock(_index.LastWallMilliseconds, _index.LastCounter);
        _ids.SeedAfter(_index.MaxEventIdForWriter); // ids keep append order even if the clock went back since
    }

    /// <summary>Validates, stamps and encodes one append into the batch buffer. Returns false for an idempotent repeat.</summary>
    public bool Stage(WriteCommand command) =>
        Stage(command, -1, command.Coordinate, command.EventKind, command.Payload.Span, command.Options, 0);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the append path: tiering would run it unoptimized (and instrumented) through a short burst of appends
    private bool Stage(WriteCommand command, int batchIndex, in Coordinate coordinate, EventKind eventKind, ReadOnlySpan<byte> payload, AppendOptions options, uint batchRemaining)
    {
        string? key = options.IdempotencyKey;
        ulong keyFingerprint = 0;
        if (key is not null)
        {
            keyFingerprint = IdempotencyFingerprint.Compute(coordinate.Entity, eventKind.Value, payload);
            if (_pendingKeys.TryGetValue(key, out int first))
            {
                AppendReceipt pending = _staged[first].Receipt;
                if (PendingKey(first).Check(key, coordinate.Entity, eventKind.Value, keyFingerprint) is { } conflict)
                {
                    FailureAwaitsBatch = true; // the event holding the key is not visible yet, and may never be
                    throw conflict;
                }

                _staged.Add(new StagedEvent(command, pending, default, first, batchIndex));
                return false;
            }

            if (_index.TryGetIdempotentForWriter(key, out IdempotencyRecord stored))
            {
                if (stored.Check(key, coordinate.Entity, eventKind.Value, keyFingerprint) is { } conflict)
                {
                    throw conflict;
                }

                if (batchIndex < 0)
                {
                    command.Succeed(stored.Receipt);
                }
                else
                {
                    command.BatchReceipts![batchIndex] = stored.Receipt;
                }

                return false;
            }
        }

        if (batchIndex < 0)
        {
            _index.EnsureRoomForWriter(_staged.Count, 1); // an atomic batch checked its room in ValidateBatch
        }

        string entity = coordinate.Entity;
        (long lastSequence, EventHash prevHash) = PendingOrLast(entity, out EntityStream? stream);

        if (options.ExpectedSequence is long expected && expected != lastSequence)
        {
            FailureAwaitsBatch = IsStagedInThisBatch(entity);
            throw new SequenceMismatchException(entity, expected, lastSequence);
        }

        uint depth = 0;
        EventId? correlation = options.CorrelationId;
        EventId causation = options.CausationId ?? EventId.Empty;
        if (!causation.IsEmpty)
        {
            // A cause is always an acknowledged event (its id is known only from its receipt, handed out after the
            // index has it), so events staged in this batch never need looking at.
            if (!_index.TryGetForWriter(causation, out IndexEntry causeEntry))
            {
                throw new EventNotFoundException(causation);
            }

            depth = causeEntry.Depth + 1;
            correlation ??= causeEntry.CorrelationId;
        }

        EventId id = _ids.Next();
        DateTimeOffset now = _time.GetUtcNow();
        long nowMicros = (now - DateTimeOffset.UnixEpoch).Ticks / 10;
        _clock.Peek(now.ToUnixTimeMilliseconds(), out long wall, out uint counter);

        var fields = new FrameFormat.FrameFields
        {
            GlobalSequence = _nextGlobal,
            EventId = id,
            CorrelationId = correlation ?? id,
            CausationId = causation,
            TimestampMicroseconds = nowMicros,
            WallMilliseconds = wall,
            Counter = counter,
            Depth = depth,
            EntitySequence = lastSequence + 1,
            Kind = eventKind.Value,
            Flags = (ushort)options.Flags,
            PrevHash = prevHash,
            Entity = entity,
            Scope = coordinate.Scope,
            IdempotencyKey = key,
            BypassReason = options.BypassReason,
            BatchRemaining = batchRemaining,
        };
        fields.Hash = FrameFormat.ComputeHash(_sha, fields, payload);

        int frameStart = _buffer.WrittenCount;
        int frameLength = FrameFormat.WriteFrame(_buffer, fields, payload);
        if (frameLength > _options.MaxEventBytes)
        {
            _buffer.Truncate(frameStart);
            throw new EventTooLargeException(frameLength, _options.MaxEventBytes);
        }

        if (!_inBatch && _segment.Tail + frameStart + frameLength > _options.SegmentMaxBytes && _segment.Tail + frameStart > _segment.HeaderLength)
        {
            // Rotation: what precedes this frame goes to the current segment, which is then sealed.
            SealAndRotate(frameStart);
            frameStart = 0;
        }

        var entry = new IndexEntry
        {
            Id = id,
            CorrelationId = fields.CorrelationId,
            CausationId = causation,
            GlobalSequence = fields.GlobalSequence,
            EntitySequence = fields.EntitySequence,
            TimestampMicroseconds = nowMicros,
            WallMilliseconds = wall,
            Offset = _segment.Tail + frameStart,
            SegmentId = _segment.Id,
            Length = frameLength,
            Counter = counter,
            Depth = depth,
            Kind = fields.Kind,
            Flags = fields.Flags,
        };

        _nextGlobal++;
        _clock.Advance(wall, counter);
        if (stream is not null)
        {
            stream.PendingBatch = _batchNumber;
            stream.PendingSequence = fields.EntitySequence;
            stream.PendingHash = fields.Hash;
        }
        else
        {
            _pendingEntities[entity] = (fields.EntitySequence, fields.Hash);
        }
        if (key is not null)
        {
            _pendingKeys[key] = _staged.Count;
        }

        var receipt = new AppendReceipt(id, fields.GlobalSequence, fields.EntitySequence, entry.Position, fields.Hash);
        _staged.Add(new StagedEvent(command, receipt, entry, -1, batchIndex, coordinate, key, keyFingerprint));
        return true;
    }

    /// <summary>
    /// The entity's last sequence and hash as this batch left them so far (or as the index holds them), plus its
    /// stream when the index has one.
    /// </summary>
    private (long Sequence, EventHash Hash) PendingOrLast(string entity, out EntityStream? stream)
    {
        stream = _index.FindEntityForWriter(entity);
        if (stream is not null)
        {
            return stream.PendingBatch == _batchNumber ? (stream.PendingSequence, stream.PendingHash) : (stream.LastSequence, stream.LastHash);
        }

        return _pendingEntities.TryGetValue(entity, out (long Sequence, EventHash Hash) pending) ? pending : (-1, EventHash.Zero);
    }

    /// <summary>Whether another command of the batch in progress staged an event of <paramref name="entity"/> (not visible to readers yet).</summary>
    private bool IsStagedInThisBatch(string entity) =>
        _index.FindEntityForWriter(entity) is { } stream ? stream.PendingBatch == _batchNumber : _pendingEntities.ContainsKey(entity);

    /// <summary>What a repeat of the key held by staged entry <paramref name="index"/> (an event of this write) must match.</summary>
    private IdempotencyRecord PendingKey(int index)
    {
        ref StagedEvent staged = ref CollectionsMarshal.AsSpan(_staged)[index];
        return new IdempotencyRecord(staged.Receipt, staged.Coordinate.Entity, staged.Entry.Kind, staged.KeyFingerprint);
    }

    /// <summary>Writes the first <paramref name="buffered"/> bytes of the batch buffer to the active segment, drops them from the buffer, and seals the segment.</summary>
    private void SealAndRotate(int buffered) =>
        _segment.SealAndRotate(_buffer, buffered, ChainHeadWithStaged(), _nextGlobal);

    /// <summary>
    /// The global chain's head after the events staged so far (the index's chain, which has none of them yet, plus
    /// each new event's hash): what the seal of a segment rotated mid-batch records.
    /// </summary>
    private EventHash ChainHeadWithStaged()
    {
        EventHash[] pending = ArrayPool<EventHash>.Shared.Rent(Math.Max(1, _staged.Count));
        try
        {
            int count = 0;
            foreach (StagedEvent staged in _staged)
            {
                if (staged.DuplicateOf < 0)
                {
                    pending[count++] = staged.Receipt.Hash;
                }
            }

            lock (_index.SyncRoot)
            {
                Debug.Assert(_index.ChainLocked.Next + count == _nextGlobal);
                return _index.ChainLocked.HeadWith(pending.AsSpan(0, count));
            }
        }
        finally
        {
            ArrayPool<EventHash>.Shared.Return(pending);
        }
    }

    public void Dispose()
    {
        _buffer.Dispose();
        _sha.Dispose();
    }
}
