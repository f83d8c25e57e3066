using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Batpak.Storage;

// The batch loop: stage every command of _batch, write the batch, fsync when due, publish it to the index and answer
// each command exactly once; then run the control commands (sync, snapshot). Runs only under the write lock, called by
// ProcessBatchGuarded (StoreWriter.Failure.cs) from Execute or the writer thread.
internal sealed partial class StoreWriter
{
    // All of the following are touched only under the write lock, by the batch loop, the failure path and the
    // callers that fill _batch (StoreWriter.Callers.cs).
    private readonly List<WriteCommand> _batch = new(); // the commands of the batch being written, in queue order
    private readonly List<WriteCommand> _controls = new(); // the batch's sync and snapshot commands, run after its appends are published
    private int _cursor; // index in _batch of the next command to stage; commands past it are untouched
    // Completion bookkeeping: every command of a batch is completed exactly once (a synchronous caller reuses its
    // command as soon as it is answered, so a second reply would complete its next use). A command with staged
    // events is completed at its last staged entry (StagedEvent.CompletesCommand); one answered during staging has none.
    private WriteCommand? _staging; // the command being staged: not yet answered, and with no completing entry
    private int _answered; // entries of the stager's Staged whose commands were answered by the publish loop
    private int _controlsRun; // entries of _controls already answered
    // A check that failed against events of this batch (a CAS that saw another command's staged event) is reported
    // only once the batch's outcome is known: after publishing, its Actual is visible; if the write fails, it never
    // existed, so the command gets the batch's WriterCrashedException instead.
    private readonly List<(WriteCommand Command, Exception Error)> _deferred = new();
    private SegmentMark _batchStart; // where the active segment stood when the batch began: what a failure rolls back to

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the append path: tiering would run it unoptimized (and instrumented) through a short burst of appends
    private void ProcessBatch()
    {
        BatchStager stager = _stager;
        ActiveSegment segment = _segment;
        List<StagedEvent> entries = stager.Staged;
        _batchStart = segment.Mark();
        stager.BeginBatch();
        _controls.Clear();
        _answered = 0;
        _controlsRun = 0;
        _deferred.Clear();
        bool durable = false;

        for (_cursor = 0; _cursor < _batch.Count;)
        {
            WriteCommand command = _batch[_cursor++];
            if (command.Kind is not (CommandKind.Append or CommandKind.AppendBatch))
            {
                _controls.Add(command);
                continue;
            }

            int stagedBefore = entries.Count;
            _staging = command;
            stager.FailureAwaitsBatch = false;
            try
            {
                if (command.Kind == CommandKind.AppendBatch ? stager.StageBatch(command) : stager.Stage(command))
                {
                    durable |= command.Durable;
                }

                if (entries.Count > stagedBefore)
                {
                    CollectionsMarshal.AsSpan(entries)[^1].CompletesCommand = true; // a command's entries are contiguous
                }
            }
            catch (Exception ex) when (ex is BatpakException or ArgumentException)
            {
                Debug.Assert(entries.Count == stagedBefore, "a check failed after part of a command was staged");
                if (stager.FailureAwaitsBatch)
                {
                    _deferred.Add((command, ex));
                }
                else
                {
                    command.Fail(ex);
                }
            }

            _staging = null; // answered (a check failed, or an idempotent repeat), or answered at its last entry
        }

        PooledBufferWriter buffer = stager.Buffer;
        if (buffer.WrittenCount > 0)
        {
            segment.Write(buffer.WrittenSpan);
            buffer.Reset();
        }

        segment.AddUnsynced(entries.Count);
        if (segment.Unsynced > 0 && (durable || segment.Unsynced >= _options.SyncEveryNEvents))
        {
            segment.Sync();
        }

        Interlocked.Increment(ref _batchCount);
        if (entries.Count > 0)
        {
            int added = 0;
            lock (_index.SyncRoot)
            {
                const int PrefetchDistance = 8; // id-map slots are random: ask for the one 8 events ahead
                Span<StagedEvent> staging = CollectionsMarshal.AsSpan(entries);
                for (int i = 0; i < staging.Length; i++)
                {
                    if (i + PrefetchDistance < staging.Length)
                    {
                        _index.PrefetchLocked(staging[i + PrefetchDistance].Entry.Id);
                    }

                    ref StagedEvent staged = ref staging[i];
                    if (staged.DuplicateOf < 0)
                    {
                        _index.AddLocked(ref staged.Entry, staged.Coordinate.Entity, staged.Coordinate.Scope, staged.Receipt.Hash, staged.IdempotencyKey, staged.KeyFingerprint);
                        added++;
                    }
                }
            }

            _telemetry?.Appended(added);

            _onCommitted?.Invoke();
            Span<StagedEvent> published = CollectionsMarshal.AsSpan(entries);
            for (int i = 0; i < published.Length; i++)
            {
                ref StagedEvent staged = ref published[i];
                if (staged.BatchIndex >= 0)
                {
                    staged.Command.BatchReceipts![staged.BatchIndex] = staged.Receipt;
                }

                if (staged.CompletesCommand)
                {
                    // A single append's only entry, or a batch's last one (its earlier receipts are in place by now).
                    staged.Command.Succeed(staged.BatchIndex < 0 ? staged.Receipt : default);
                }

                _answered = i + 1;
            }

            entries.Clear();
        }

        while (_deferred.Count > 0)
        {
            (WriteCommand command, Exception error) = _deferred[^1];
            _deferred.RemoveAt(_deferred.Count - 1);
            command.Fail(error); // the events it was checked against are visible now
        }

        for (; _controlsRun < _controls.Count; _controlsRun++)
        {
            RunControl(_controls[_controlsRun]);
        }

        _controls.Clear();
        _batch.Clear();
        AssertInvariants();
    }

    /// <summary>Runs a sync or snapshot command after the batch's appends are published; its own failure fails only it.</summary>
    private void RunControl(WriteCommand command)
    {
        try
        {
            switch (command.Kind)
            {
                case CommandKind.Sync:
                    _segment.SyncIfUnsynced();
                    break;
                case CommandKind.Snapshot:
                    _segment.SyncIfUnsynced();
                    _segment.CopyTo(command.Destination!);
                    break;
            }

            command.Succeed(default);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or BatpakException)
        {
            command.Fail(ex);
        }
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(_segment.Tail >= _segment.HeaderLength);
        Debug.Assert(_stager.NextGlobal >= _index.NextGlobalSequence);
    }
}
