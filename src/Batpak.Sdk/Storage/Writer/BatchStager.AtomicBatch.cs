using System.Runtime.CompilerServices;

namespace Batpak.Storage;

// Atomic batches: validate every event of an AppendBatch before the first frame is encoded, then stage all of them
// into one segment. Called only by StoreWriter's batch loop, under the write lock.
internal sealed partial class BatchStager
{
    /// <summary>
    /// Stages every event of an atomic batch, or none: the whole batch is validated before the first frame is
    /// encoded, the batch never spans two segments, and each frame records how many frames of the batch follow it,
    /// so recovery drops a batch whose tail was torn. Returns whether any event was new (not an idempotent repeat).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the append path: tiering would run it unoptimized (and instrumented) through a short burst of appends
    public bool StageBatch(WriteCommand command)
    {
        IReadOnlyList<EventData> events = command.Batch!;
        long estimate = ValidateBatch(events);
        if (command.BatchReceipts is null || command.BatchReceipts.Length < events.Count)
        {
            command.BatchReceipts = new AppendReceipt[events.Count]; // else the caller's pooled array
        }

        if (_segment.Tail + _buffer.WrittenCount + estimate > _options.SegmentMaxBytes && _segment.Tail + _buffer.WrittenCount > _segment.HeaderLength)
        {
            SealAndRotate(_buffer.WrittenCount);
        }

        _inBatch = true;
        try
        {
            bool wroteAny = false;
            int stagedBefore = _staged.Count;
            int framesLeft = 0;
            for (int i = 0; i < events.Count; i++)
            {
                framesLeft += IsRepeat(events[i].Options, events, i) ? 0 : 1;
            }

            int bufferedBefore = _buffer.WrittenCount;
            for (int i = 0; i < events.Count; i++)
            {
                EventData e = events[i];
                bool repeat = IsRepeat(e.Options, events, i);
                uint remaining = repeat ? 0 : (uint)(--framesLeft);
                try
                {
                    _segment.FaultInjector?.Invoke("stage");
                    wroteAny |= Stage(command, i, e.Coordinate, e.Kind, e.Payload.Span, e.Options ?? AppendOptions.Default, remaining);
                }
                catch (Exception ex) when (_staged.Count > stagedBefore || _buffer.WrittenCount > bufferedBefore)
                {
                    // ValidateBatch checked everything Stage checks, so this is a bug; but the batch is half staged
                    // (frames encoded, sequences taken). Failing only this command would write that half: fail the
                    // whole write instead (nothing of it is on disk yet), and let the restart reset the writer.
                    StagingAborted = true;
                    throw new InvalidOperationException($"Event {i} of an atomic batch of {events.Count} failed after {_staged.Count - stagedBefore} of its events were staged ({ex.Message}); the write is abandoned so no part of the batch is stored.", ex);
                }
            }

            if (_staged.Count == stagedBefore)
            {
                // Every event was an idempotent repeat of a stored one: the receipts are known already.
                command.Succeed(default);
            }

            return wroteAny;
        }
        finally
        {
            _inBatch = false;
        }
    }

    /// <summary>An upper bound of an event's frame size: the fixed fields take at most 200 bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the append path: tiering would run it unoptimized (and instrumented) through a short burst of appends
    public static long EstimateFrameBytes(in EventData e) =>
        256L + e.Payload.Length + (3L * (e.Coordinate.Entity.Length + e.Coordinate.Scope.Length))
        + (3L * ((e.Options?.IdempotencyKey?.Length ?? 0) + (e.Options?.BypassReason?.Length ?? 0)));

    /// <summary>
    /// Checks CAS expectations, causes and sizes of a whole batch against the state it will be applied to; returns the
    /// batch's estimated frame bytes (see <see cref="EstimateFrameBytes"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the append path: tiering would run it unoptimized (and instrumented) through a short burst of appends
    private long ValidateBatch(IReadOnlyList<EventData> events)
    {
        bool plain = true;
        long estimate = 0;
        for (int i = 0; i < events.Count; i++) // indexed: foreach over IReadOnlyList<T> would allocate an enumerator per batch
        {
            EventData e = events[i];
            long frameBytes = EstimateFrameBytes(e);
            if (frameBytes > _options.MaxEventBytes)
            {
                throw new EventTooLargeException(frameBytes, _options.MaxEventBytes);
            }

            estimate += frameBytes;
            plain &= e.Options is null || (e.Options.ExpectedSequence is null && e.Options.CausationId is null && e.Options.IdempotencyKey is null);
        }

        if (plain)
        {
            _index.EnsureRoomForWriter(_staged.Count, events.Count);
            return estimate; // no expectations, causes or keys: nothing else can fail
        }

        int fresh = 0; // events that get a frame (not repeats of a key's event)
        Dictionary<string, long> sequences = _validationSequences;
        sequences.Clear();
        for (int i = 0; i < events.Count; i++)
        {
            EventData e = events[i];
            AppendOptions options = e.Options ?? AppendOptions.Default;
            if (CheckKey(events, i))
            {
                continue;
            }

            string entity = e.Coordinate.Entity;
            if (!sequences.TryGetValue(entity, out long last))
            {
                (last, _) = PendingOrLast(entity, out _);
            }

            if (options.ExpectedSequence is long expected && expected != last)
            {
                FailureAwaitsBatch = IsStagedInThisBatch(entity);
                throw new SequenceMismatchException(entity, expected, last);
            }

            if (options.CausationId is EventId cause && !cause.IsEmpty && !_index.TryGetForWriter(cause, out _))
            {
                throw new EventNotFoundException(cause);
            }

            sequences[entity] = last + 1;
            fresh++;
        }

        _index.EnsureRoomForWriter(_staged.Count, fresh);
        return estimate;
    }

    /// <summary>
    /// Batch validation of event <paramref name="i"/>'s idempotency key: true when the event repeats the one that holds
    /// the key (stored, staged in this write, or earlier in the batch); <see cref="IdempotencyConflictException"/>
    /// when that event has another entity, kind or payload; false without a key or for a new key.
    /// </summary>
    private bool CheckKey(IReadOnlyList<EventData> events, int i)
    {
        EventData e = events[i];
        string? key = e.Options?.IdempotencyKey;
        if (key is null)
        {
            return false;
        }

        ulong fingerprint = IdempotencyFingerprint.Compute(e.Coordinate.Entity, e.Kind.Value, e.Payload.Span);
        if (_pendingKeys.TryGetValue(key, out int first))
        {
            if (PendingKey(first).Check(key, e.Coordinate.Entity, e.Kind.Value, fingerprint) is { } conflict)
            {
                FailureAwaitsBatch = true;
                throw conflict;
            }

            return true;
        }

        if (_index.TryGetIdempotentForWriter(key, out IdempotencyRecord stored))
        {
            return stored.Check(key, e.Coordinate.Entity, e.Kind.Value, fingerprint) is { } conflict ? throw conflict : true;
        }

        for (int j = 0; j < i; j++)
        {
            EventData earlier = events[j];
            if (string.Equals(earlier.Options?.IdempotencyKey, key, StringComparison.Ordinal))
            {
                bool sameTarget = string.Equals(earlier.Coordinate.Entity, e.Coordinate.Entity, StringComparison.Ordinal) && earlier.Kind == e.Kind;
                if (!sameTarget || !earlier.Payload.Span.SequenceEqual(e.Payload.Span))
                {
                    throw new IdempotencyConflictException(key, EventId.Empty, earlier.Coordinate.Entity, earlier.Kind, e.Coordinate.Entity, e.Kind, payloadDiffers: sameTarget);
                }

                return true;
            }
        }

        return false;
    }

    /// <summary>Whether event <paramref name="i"/> repeats a key stored, staged in this write, or used earlier in the batch (it gets no frame).</summary>
    private bool IsRepeat(AppendOptions? options, IReadOnlyList<EventData> events, int i)
    {
        string? key = options?.IdempotencyKey;
        if (key is null)
        {
            return false;
        }

        if (_pendingKeys.ContainsKey(key) || _index.TryGetIdempotentForWriter(key, out _))
        {
            return true;
        }

        for (int j = 0; j < i; j++)
        {
            if (string.Equals(events[j].Options?.IdempotencyKey, key, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
