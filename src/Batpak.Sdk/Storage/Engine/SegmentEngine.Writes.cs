// The embedded engine's writes: checked appends turned into writer commands (a synchronous caller takes the write
// lock and writes itself; an async one queues for the writer thread), plus Sync and Snapshot. Called by StoreCore,
// which has checked the arguments and that the engine is writable.
namespace Batpak.Storage;

internal sealed partial class SegmentEngine
{
    /// <inheritdoc />
    public AppendReceipt Append(in Coordinate coordinate, EventKind kind, ReadOnlySpan<byte> payload, AppendOptions options)
    {
        WriteCommand command = WriteCommand.RentSync();
        command.SetAppend(coordinate, kind, options, options.Durable);
        command.CopyPayload(payload);
        try
        {
            Writer.Execute(command);
        }
        catch
        {
            command.Abandon(); // never queued: recycle it and let the exception through
            throw;
        }

        return command.WaitAndRecycle();
    }

    /// <inheritdoc />
    public async ValueTask<AppendReceipt> AppendAsync(Coordinate coordinate, EventKind kind, ReadOnlyMemory<byte> payload, AppendOptions options, CancellationToken cancellationToken)
    {
        WriteCommand command = WriteCommand.CreateAsync();
        command.SetAppend(coordinate, kind, options, durable: true);
        command.Payload = payload; // not copied: the caller keeps the memory alive until completion
        try
        {
            await Writer.EnqueueAsync(command, cancellationToken).ConfigureAwait(false);
        }
        catch (System.Threading.Channels.ChannelClosedException ex)
        {
            throw new ObjectDisposedException("The store is disposed (or disposing) and accepts no more appends.", ex);
        }

        return await new ValueTask<AppendReceipt>(command, command.Version).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public AppendReceipt[] AppendBatch(IReadOnlyList<EventData> events, bool durable, AppendReceipt[]? receipts)
    {
        long estimate = 0;
        for (int i = 0; i < events.Count; i++)
        {
            estimate += StoreWriter.EstimateFrameBytes(events[i]);
        }

        if (estimate > _options.SegmentMaxBytes)
        {
            throw new ArgumentException($"The batch needs up to {estimate} bytes; an atomic batch must fit in one segment (SegmentMaxBytes = {_options.SegmentMaxBytes}). Split it or raise SegmentMaxBytes.", nameof(events));
        }

        WriteCommand command = WriteCommand.RentSync();
        command.Kind = CommandKind.AppendBatch;
        command.Batch = events;
        command.Durable = durable;
        command.BatchReceipts = receipts;
        try
        {
            Writer.Execute(command);
        }
        catch
        {
            command.Abandon();
            throw;
        }

        return command.WaitBatchAndRecycle();
    }

    /// <inheritdoc />
    public void Sync() => RunControl(CommandKind.Sync, null);

    /// <inheritdoc />
    public void Snapshot(string destinationDirectory)
    {
        string destination = Path.GetFullPath(destinationDirectory);
        if (string.Equals(destination.TrimEnd(Path.DirectorySeparatorChar), _directory.TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal))
        {
            throw new ArgumentException("The snapshot destination is the store's own data directory.", nameof(destinationDirectory));
        }

        if (Directory.Exists(destination) && Directory.EnumerateFileSystemEntries(destination).Any())
        {
            throw new ArgumentException($"The snapshot destination \"{destination}\" is not empty.", nameof(destinationDirectory));
        }

        Directory.CreateDirectory(destination);
        RunControl(CommandKind.Snapshot, destination);
    }

    private void RunControl(CommandKind kind, string? destination)
    {
        WriteCommand command = WriteCommand.RentSync();
        command.Kind = kind;
        command.Destination = destination;
        try
        {
            Writer.Execute(command);
        }
        catch
        {
            command.Abandon(); // never queued: recycle it and let the exception through
            throw;
        }

        command.WaitAndRecycle();
    }
}
