using System.Threading.Tasks.Sources;

namespace Batpak.Storage;

// A WriteCommand's reply slot: the writer (whoever holds the write lock) answers with Succeed or Fail exactly once;
// a synchronous caller blocks in WaitAndRecycle / WaitBatchAndRecycle, an asynchronous one awaits the
// IValueTaskSource, whose continuations run on the thread pool, never under the write lock.
internal sealed partial class WriteCommand : IValueTaskSource<AppendReceipt>
{
    private readonly ManualResetEventSlim _done = new(false, spinCount: 200); // a synchronous caller's wait (spin, then sleep)
    private ManualResetValueTaskSourceCore<AppendReceipt> _core = new() { RunContinuationsAsynchronously = true }; // an asynchronous caller's awaitable
    private AppendReceipt _result; // the reply's receipt; written by the writer before signalling
    private Exception? _error; // the reply's failure, if any; written by the writer before signalling
    private bool _signaled; // this use was answered already (a backstop against a second reply; reset by RentSync)

    public short Version => _core.Version;

    /// <summary>True once a synchronous command has its reply.</summary>
    public bool IsCompleted => _done.IsSet;

    /// <summary>Answers the command with <paramref name="receipt"/> (default for a batch: its receipts are in <see cref="BatchReceipts"/>).</summary>
    public void Succeed(in AppendReceipt receipt)
    {
        _result = receipt;
        Signal();
    }

    /// <summary>Answers the command with <paramref name="error"/>.</summary>
    public void Fail(Exception error)
    {
        _error = error;
        Signal();
    }

    private void Signal()
    {
        if (_signaled)
        {
            // The writer answers each use of a command exactly once (StoreWriter completes a batch at its last
            // staged event and fails each unanswered command once). This guard is only a backstop within one use;
            // it cannot tell a stale reply from a new use once RentSync has reset it.
            return;
        }

        _signaled = true;
        if (IsAsync)
        {
            if (_error is null)
            {
                _core.SetResult(_result);
            }
            else
            {
                _core.SetException(_error);
            }
        }
        else
        {
            _done.Set();
        }
    }

    /// <summary>Blocks the calling (synchronous) thread until the writer replies, then recycles the command.</summary>
    public AppendReceipt WaitAndRecycle()
    {
        _done.Wait();
        Exception? error = _error;
        AppendReceipt result = _result;
        Abandon();
        if (error is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
        }

        return result;
    }

    /// <summary>Blocks until a batch command is answered; returns its receipts and recycles the command.</summary>
    public AppendReceipt[] WaitBatchAndRecycle()
    {
        _done.Wait();
        AppendReceipt[]? receipts = BatchReceipts;
        WaitAndRecycle(); // throws the batch's error, if any
        return receipts!;
    }

    AppendReceipt IValueTaskSource<AppendReceipt>.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<AppendReceipt>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<AppendReceipt>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
