using System.ComponentModel.DataAnnotations;

namespace Batpak;

/// <summary>How <c>fsync</c> is issued when the store makes appends durable.</summary>
public enum SyncMode
{
    /// <summary>Flush file data and the metadata needed to read it back (<c>fdatasync</c> on Linux). The default.</summary>
    Data = 0,

    /// <summary>Flush file data and all metadata (<c>fsync</c>).</summary>
    All = 1,
}

/// <summary>
/// Settings of an <see cref="IEventStore"/>. Bind them from configuration or set them in code; they are validated
/// when the store opens.
/// </summary>
public sealed class BatpakOptions
{
    private HashSet<EventKind> _gatedKinds = [];

    /// <summary>The data directory holding the segment files. Created if missing. Required.</summary>
    [Required]
    public string DataDirectory { get; set; } = string.Empty;

    /// <summary>
    /// A segment is sealed and a new one started once it reaches this many bytes. Default 64 MiB. Smaller values
    /// make compaction finer-grained; larger ones mean fewer files.
    /// </summary>
    [Range(4096, 1L << 40)]
    public long SegmentMaxBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// The writer issues an fsync after this many events even when no caller asked for durability. Default 1000.
    /// 1 makes every append durable before it is acknowledged.
    /// </summary>
    [Range(1, int.MaxValue)]
    public int SyncEveryNEvents { get; set; } = 1000;

    /// <summary>How fsync is issued. Default <see cref="SyncMode.Data"/>.</summary>
    public SyncMode SyncMode { get; set; } = SyncMode.Data;

    /// <summary>The most segment read handles kept open at once (the file-handle budget). Default 64.</summary>
    [Range(1, 65536)]
    public int FileHandleBudget { get; set; } = 64;

    /// <summary>Appends queued for the writer before <c>Append</c> waits (back-pressure). Default 8192.</summary>
    [Range(1, 1 << 24)]
    public int WriteQueueCapacity { get; set; } = 8192;

    /// <summary>The most appends the writer takes into one batch (one write, at most one fsync). Default 1024.</summary>
    [Range(1, 1 << 20)]
    public int MaxBatchEvents { get; set; } = 1024;

    /// <summary>The largest encoded event (frame) accepted, in bytes. Default 4 MiB. Larger appends throw <see cref="EventTooLargeException"/>.</summary>
    [Range(1024, 1 << 30)]
    public int MaxEventBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>The scope given to typed events whose record has no <see cref="ScopeAttribute"/> member. Default <c>"default"</c>.</summary>
    [Required]
    public string DefaultScope { get; set; } = "default";

    /// <summary>
    /// How many times the writer may restart after a failed write or fsync (disk full, I/O error) within
    /// <see cref="WriterRestartWindow"/>. A restart cuts what the failed batch wrote and proves the acknowledged data
    /// intact before appends resume; the failed batch's callers always get <see cref="WriterCrashedException"/>.
    /// 0 disables restarts: the first failure faults the writer until the store is reopened. Default 3.
    /// </summary>
    [Range(0, 1000)]
    public int WriterRestartLimit { get; set; } = 3;

    /// <summary>The window <see cref="WriterRestartLimit"/> counts restarts in. Default 1 minute.</summary>
    public TimeSpan WriterRestartWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long <c>Dispose</c> lets the writer drain queued appends before it rejects the rest. Default 30 s.</summary>
    public TimeSpan ShutdownDrainTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>An fsync of the active segment that takes longer than this is logged as a warning (event <c>SlowFsync</c>). Default 200 ms.</summary>
    public TimeSpan SlowSyncThreshold { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// The secret key of a keyed hash chain, or <see langword="null"/> (the default) for plain SHA-256 chains. With a
    /// key, every event hash, every global-chain digest and every compaction record is an HMAC-SHA256 under it, so
    /// someone who can write the store's files but does not have the key cannot alter, remove or add an event
    /// without <c>Verify</c>/<c>VerifyAll</c> (and, for records, open) noticing (docs/SECURITY.md). At least 16
    /// bytes; keep it outside the data directory. A store is keyed or not from its first segment on: opening it
    /// with a missing or different key throws <see cref="ChainKeyMismatchException"/>. The store keeps its own copy.
    /// </summary>
    public byte[]? ChainKey { get; set; }

    /// <summary>
    /// Kinds that may be appended only through a <see cref="Pipeline{TContext}"/>: its <c>Commit</c> of a receipt its
    /// gates issued, or its audited <c>Bypass</c>. A raw <c>Append</c>, <c>AppendAsync</c>, <c>AppendBatch</c> or
    /// <c>AppendReaction</c> of one of them (the typed extensions and reactors included) throws
    /// <see cref="GateRequiredException"/> and appends nothing. Empty by default: no kind is gated and every append
    /// works as before. In DI, <c>builder.RequireGatesFor(kinds)</c> adds to it.
    /// </summary>
    /// <remarks>
    /// The store accepts the pipeline's permission through an internal path only: no public member of
    /// <see cref="AppendOptions"/> (or anything else) can carry it, and each permission admits one event of the
    /// receipt's kind at its coordinate. Any pipeline over the store may commit a gated kind, whatever its gate set;
    /// the store does not pair kinds with gate sets. Reserved kinds cannot be listed.
    /// </remarks>
    public ISet<EventKind> GatedKinds => _gatedKinds;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad setting.</summary>
    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(DataDirectory))
        {
            throw new ArgumentException("BatpakOptions.DataDirectory is required: set it to the folder that holds the store.", nameof(DataDirectory));
        }

        Check(SegmentMaxBytes >= 4096, nameof(SegmentMaxBytes), SegmentMaxBytes, "at least 4096");
        Check(SyncEveryNEvents >= 1, nameof(SyncEveryNEvents), SyncEveryNEvents, "at least 1");
        Check(FileHandleBudget >= 1, nameof(FileHandleBudget), FileHandleBudget, "at least 1");
        Check(WriteQueueCapacity >= 1, nameof(WriteQueueCapacity), WriteQueueCapacity, "at least 1");
        Check(MaxBatchEvents >= 1, nameof(MaxBatchEvents), MaxBatchEvents, "at least 1");
        Check(MaxEventBytes >= 1024, nameof(MaxEventBytes), MaxEventBytes, "at least 1024");
        Check(WriterRestartLimit >= 0, nameof(WriterRestartLimit), WriterRestartLimit, "0 or more");
        Check(WriterRestartWindow > TimeSpan.Zero, nameof(WriterRestartWindow), WriterRestartWindow, "positive");
        Check(ShutdownDrainTimeout >= TimeSpan.Zero, nameof(ShutdownDrainTimeout), ShutdownDrainTimeout, "not negative");
        Check(SlowSyncThreshold >= TimeSpan.Zero, nameof(SlowSyncThreshold), SlowSyncThreshold, "not negative");
        Check(Enum.IsDefined(SyncMode), nameof(SyncMode), SyncMode, "Data or All");
        Coordinate.Validate(DefaultScope, nameof(DefaultScope));
        if (ChainKey is { Length: < Storage.ChainHashing.MinKeyBytes })
        {
            throw new ArgumentOutOfRangeException(nameof(ChainKey), ChainKey.Length, $"BatpakOptions.ChainKey must be at least {Storage.ChainHashing.MinKeyBytes} bytes; got {ChainKey.Length} bytes.");
        }
        if (ReservedGatedKind() is { } reserved)
        {
            throw new ArgumentException($"BatpakOptions.GatedKinds lists {reserved}, a kind in a category reserved for the SDK; gate user kinds only (see EventKind.Create).", nameof(GatedKinds));
        }
    }

    /// <summary>The first reserved kind in <see cref="GatedKinds"/>, if any.</summary>
    internal EventKind? ReservedGatedKind()
    {
        foreach (EventKind kind in _gatedKinds)
        {
            if (kind.IsReserved)
            {
                return kind;
            }
        }

        return null;
    }

    private static void Check(bool ok, string name, object value, string rule)
    {
        if (!ok)
        {
            throw new ArgumentOutOfRangeException(name, value, $"BatpakOptions.{name} must be {rule}; got {value}.");
        }
    }

    internal BatpakOptions Clone()
    {
        var copy = (BatpakOptions)MemberwiseClone();
        copy.ChainKey = (byte[]?)ChainKey?.Clone(); // a caller who changes or clears its array later changes nothing here
        copy._gatedKinds = [.. _gatedKinds];
        return copy;
    }
}
