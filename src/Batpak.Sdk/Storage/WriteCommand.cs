using System.Buffers;
using System.Threading.Tasks.Sources;

namespace Batpak.Storage;

internal enum CommandKind
{
    Append,
    Sync,
    Snapshot,
}

/// <summary>
/// One request to the writer thread and its reply slot. A synchronous caller reuses one instance per thread and
/// blocks on <see cref="_done"/> (spin, then sleep); an asynchronous caller awaits it as an
/// <see cref="IValueTaskSource{TResult}"/> whose continuations never run on the writer thread.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "ManualResetEventSlim allocates no kernel handle unless WaitHandle is read, which this type never does; commands live as long as their thread.")]
internal sealed class WriteCommand : IValueTaskSource<AppendReceipt>
{
    [ThreadStatic]
    private static WriteCommand? t_cached;

    private readonly ManualResetEventSlim _done = new(false, spinCount: 200);
    private ManualResetValueTaskSourceCore<AppendReceipt> _core = new() { RunContinuationsAsynchronously = true };
    private AppendReceipt _result;
    private Exception? _error;

    public CommandKind Kind;
    public bool IsAsync;
    public Coordinate Coordinate;
    public EventKind EventKind;
    public ReadOnlyMemory<byte> Payload;
    public byte[]? RentedPayload;
    public AppendOptions Options = AppendOptions.Default;
    public bool Durable;
    public string? Destination;

    /// <summary>A synchronous append command for this thread (reused; the thread is blocked while it is in flight).</summary>
    public static WriteCommand RentSync()
    {
        WriteCommand command = t_cached ?? new WriteCommand();
        t_cached = null;
        command.IsAsync = false;
        command._done.Reset();
        command._error = null;
        return command;
    }

    public static WriteCommand CreateAsync()
    {
        var command = new WriteCommand { IsAsync = true };
        return command;
    }

    /// <summary>Copies the payload into a pooled array owned by the command.</summary>
    public void CopyPayload(ReadOnlySpan<byte> payload)
    {
        byte[] rented = ArrayPool<byte>.Shared.Rent(Math.Max(payload.Length, 1));
        payload.CopyTo(rented);
        RentedPayload = rented;
        Payload = rented.AsMemory(0, payload.Length);
    }

    public short Version => _core.Version;

    /// <summary>True once a synchronous command has its reply.</summary>
    public bool IsCompleted => _done.IsSet;

    public void Succeed(in AppendReceipt receipt)
    {
        _result = receipt;
        Signal();
    }

    public void Fail(Exception error)
    {
        _error = error;
        Signal();
    }

    private void Signal()
    {
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
        ReleasePayload();
        Options = AppendOptions.Default;
        Destination = null;
        _error = null;
        t_cached = this;
        if (error is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
        }

        return result;
    }

    /// <summary>Recycles a synchronous command that was never queued.</summary>
    public void Abandon()
    {
        ReleasePayload();
        Options = AppendOptions.Default;
        Destination = null;
        _error = null;
        t_cached = this;
    }

    public void ReleasePayload()
    {
        if (RentedPayload is not null)
        {
            ArrayPool<byte>.Shared.Return(RentedPayload);
            RentedPayload = null;
        }

        Payload = default;
    }

    AppendReceipt IValueTaskSource<AppendReceipt>.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<AppendReceipt>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<AppendReceipt>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
