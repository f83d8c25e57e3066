using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Batpak.Storage;

// The failure path of a batch: answer every unanswered command of it with WriterCrashedException, then restart (put
// the active segment back, within RestartPolicy's budget) or fault the writer for good. Runs only under the write
// lock, from Execute or the writer thread (StoreWriter.Callers.cs).
internal sealed partial class StoreWriter
{
    /// <summary>Processes <see cref="_batch"/>; an I/O failure fails every unacknowledged command of the batch, then restarts or faults the writer.</summary>
    private void ProcessBatchGuarded()
    {
        Debug.Assert(_writeLock.IsHeldByCurrentThread);
        try
        {
            ProcessBatch();
        }
        catch (Exception ex)
        {
            WriterCrashedException crashed = Crashed(ex);

            // Each unanswered command is failed once: a command answered already (a failed check, an idempotent
            // repeat, a reply of the publish loop) is not touched again, as its caller may be reusing it.
            List<StagedEvent> entries = _stager.Staged;
            Span<StagedEvent> staged = CollectionsMarshal.AsSpan(entries);
            for (int i = _answered; i < staged.Length; i++)
            {
                if (staged[i].CompletesCommand)
                {
                    staged[i].Command.Fail(crashed);
                }
            }

            _staging?.Fail(crashed); // the command whose staging (or the rotation it started) threw
            _staging = null;
            foreach ((WriteCommand command, _) in _deferred)
            {
                command.Fail(crashed); // checked against events that will never exist: not appended, can be retried
            }

            _deferred.Clear();
            for (int i = _controlsRun; i < _controls.Count; i++)
            {
                _controls[i].Fail(crashed);
            }

            for (int i = _cursor; i < _batch.Count; i++)
            {
                _batch[i].Fail(crashed);
            }

            entries.Clear();
            _controls.Clear();
            _batch.Clear();
            if (!TryRestart(ex))
            {
                _fault = ex;
                _telemetry?.WriterFaulted(ex);
                _segment.DiscardUnacknowledged(_batchStart);
                _channel.Writer.TryComplete(); // the writer thread fails whatever is still queued
            }
        }
    }

    /// <summary>
    /// The restart: after a failed batch, when <see cref="RestartPolicy"/> allows it, put the active segment back
    /// exactly as it was before the batch (<see cref="ActiveSegment.TryRollBack"/>), take the next global sequence and
    /// the clock from the index again, and carry on. Past the policy's budget, or when any step fails, the writer
    /// stays faulted and every append gets <see cref="WriterCrashedException"/> until the store is reopened.
    /// </summary>
    private bool TryRestart(Exception cause)
    {
        DateTimeOffset now = _time.GetUtcNow();
        if (!_restartPolicy.Allows(cause, _stager.StagingAborted, now) || !_segment.TryRollBack(_batchStart))
        {
            return false;
        }

        _stager.ResetFromIndex();
        _telemetry?.WriterRestarted(cause, _restartPolicy.Record(now));
        return true;
    }
}
