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
/// Settings of an <see cref="IEventStore"/>. Set them in code or bind them from configuration (keys are the property
/// names; each property says its configuration form); they are checked when the store opens, and under DI when the
/// host starts, by one set of rules with one message per bad setting.
/// </summary>
public sealed class BatpakOptions
{
    private HashSet<EventKind> _gatedKinds = [];

    /// <summary>The data directory holding the segment files. Created if missing. Required.</summary>
    /// <remarks>Valid: a folder path: not empty or whitespace, no NUL character. Configuration: the path as is.</remarks>
    public string DataDirectory { get; set; } = string.Empty;

    /// <summary>
    /// A segment is sealed and a new one started once it reaches this many bytes. Default 64 MiB. Smaller values
    /// make compaction finer-grained; larger ones mean fewer files.
    /// </summary>
    /// <remarks>Valid: 4096 to 1099511627776 (4 KiB to 1 TiB). Configuration: an integer.</remarks>
    public long SegmentMaxBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// The writer issues an fsync after this many events even when no caller asked for durability. Default 1000.
    /// 1 makes every append durable before it is acknowledged.
    /// </summary>
    /// <remarks>Valid: 1 to 2147483647. Configuration: an integer.</remarks>
    public int SyncEveryNEvents { get; set; } = 1000;

    /// <summary>How fsync is issued. Default <see cref="SyncMode.Data"/>.</summary>
    /// <remarks>Valid: Data or All. Configuration: the name, case-insensitive (not its number).</remarks>
    public SyncMode SyncMode { get; set; } = SyncMode.Data;

    /// <summary>The most segment read handles kept open at once (the file-handle budget). Default 1024.</summary>
    /// <remarks>
    /// Valid: 1 to 8192. Configuration: an integer. Each cached handle is one open file descriptor and, for a sealed
    /// segment, one memory map. The default covers 1024 segments (64 GiB at the default <see cref="SegmentMaxBytes"/>);
    /// a store with more segments than the budget reopens handles on random reads, which costs each such read a file
    /// open and a map. When the process runs out of descriptors (the limit, <c>ulimit -n</c>, is shared with the rest
    /// of the application), the store closes the least recently used half of the handles no read holds and lowers its
    /// budget for the rest of its life, so reads go on. The cap stays under the descriptor ceiling .NET reaches on
    /// macOS (10240) and Linux's default map-count limit (65530).
    /// </remarks>
    public int FileHandleBudget { get; set; } = 1024;

    /// <summary>Appends queued for the writer before <c>Append</c> waits (back-pressure). Default 8192.</summary>
    /// <remarks>Valid: 1 to 16777216. Configuration: an integer.</remarks>
    public int WriteQueueCapacity { get; set; } = 8192;

    /// <summary>The most appends the writer takes into one batch (one write, at most one fsync). Default 1024.</summary>
    /// <remarks>Valid: 1 to 1048576. Configuration: an integer.</remarks>
    public int MaxBatchEvents { get; set; } = 1024;

    /// <summary>The largest encoded event (frame) accepted, in bytes. Default 4 MiB. Larger appends throw <see cref="EventTooLargeException"/>.</summary>
    /// <remarks>Valid: 1024 to 1073741824 (1 KiB to 1 GiB). Configuration: an integer.</remarks>
    public int MaxEventBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>The scope given to typed events whose record has no <see cref="ScopeAttribute"/> member. Default <c>"default"</c>.</summary>
    /// <remarks>Valid: a scope: 1 to 256 characters, no control character or lone surrogate. Configuration: the string as is.</remarks>
    public string DefaultScope { get; set; } = "default";

    /// <summary>
    /// How many times the writer may restart after a failed write or fsync (disk full, I/O error) within
    /// <see cref="WriterRestartWindow"/>. A restart cuts what the failed batch wrote and proves the acknowledged data
    /// intact before appends resume; the failed batch's callers always get <see cref="WriterCrashedException"/>.
    /// 0 disables restarts: the first failure faults the writer until the store is reopened. Default 3.
    /// </summary>
    /// <remarks>Valid: 0 to 1000. Configuration: an integer.</remarks>
    public int WriterRestartLimit { get; set; } = 3;

    /// <summary>The window <see cref="WriterRestartLimit"/> counts restarts in. Default 1 minute.</summary>
    /// <remarks>
    /// Valid: more than 00:00:00; a long window counts restarts since the store opened. Configuration: a time span in
    /// the constant ("c") format <c>[-][d.]hh:mm:ss[.fffffff]</c>, for example <c>00:01:00</c> (hours and minutes are
    /// required: a bare number is refused, not read as days).
    /// </remarks>
    public TimeSpan WriterRestartWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long <c>Dispose</c> lets the writer drain queued appends before it rejects the rest. Default 30 s.</summary>
    /// <remarks>Valid: 00:00:00 to 1.00:00:00 (one day). Configuration: a time span in the "c" format, for example <c>00:00:30</c>.</remarks>
    public TimeSpan ShutdownDrainTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>An fsync of the active segment that takes longer than this is logged as a warning (event <c>SlowFsync</c>). Default 200 ms.</summary>
    /// <remarks>Valid: 00:00:00 to 1.00:00:00 (one day). Configuration: a time span in the "c" format, for example <c>00:00:00.200</c>.</remarks>
    public TimeSpan SlowSyncThreshold { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// The secret key of a keyed hash chain, or <see langword="null"/> (the default) for plain SHA-256 chains. With a
    /// key, every event hash, every global-chain digest and every compaction record is an HMAC-SHA256 under it, so
    /// someone who can write the store's files but does not have the key cannot alter, remove or add an event
    /// without <c>Verify</c>/<c>VerifyAll</c> (and, for records, open) noticing (docs/SECURITY.md). Keep it outside
    /// the data directory. A store is keyed or not from its first segment on: opening it with a missing or different
    /// key throws <see cref="ChainKeyMismatchException"/>. The store keeps its own copy.
    /// </summary>
    /// <remarks>
    /// Valid: null (no key) or at least 16 bytes. Configuration: base64 (standard alphabet, with padding) of the key's
    /// bytes, for example the output of <c>openssl rand -base64 32</c>; an empty value is a key of 0 bytes and is
    /// refused, so a secret that did not arrive never opens an unkeyed store. Messages give the key's length, never
    /// its value.
    /// </remarks>
    public byte[]? ChainKey { get; set; }

    /// <summary>
    /// Kinds that may be appended only through a <see cref="Pipeline{TContext}"/>: its <c>Commit</c> of a receipt its
    /// gates issued, or its audited <c>Bypass</c>. A raw <c>Append</c>, <c>AppendAsync</c>, <c>AppendBatch</c> or
    /// <c>AppendReaction</c> of one of them (the typed extensions and reactors included) throws
    /// <see cref="GateRequiredException"/> and appends nothing. Empty by default: no kind is gated and every append
    /// works as before. In DI, <c>builder.RequireGatesFor(kinds)</c> adds to it.
    /// </summary>
    /// <remarks>
    /// <para>Valid: user kinds only (categories 0x1 to 0xC and 0xE to 0xF). Configuration: event kinds as
    /// <see cref="EventKind.ToString"/> prints them, separated by commas (<c>0x1001,0xE002</c>) or as an array section
    /// (<c>GatedKinds:0</c>, <c>GatedKinds:1</c>); bound kinds are added to the set, as <c>RequireGatesFor</c> adds.</para>
    /// <para>The store accepts the pipeline's permission through an internal path only: no public member of
    /// <see cref="AppendOptions"/> (or anything else) can carry it, and each permission admits one event of the
    /// receipt's kind at its coordinate. Any pipeline over the store may commit a gated kind, whatever its gate set;
    /// the store does not pair kinds with gate sets.</para>
    /// </remarks>
    public ISet<EventKind> GatedKinds => _gatedKinds;

    /// <summary>The most live events the embedded engine's index holds; only tests lower it (to reach the limit).</summary>
    internal long IndexCapacity { get; set; } = Storage.StoreIndex.DefaultCapacity;

    internal BatpakOptions Clone()
    {
        var copy = (BatpakOptions)MemberwiseClone();
        copy.ChainKey = (byte[]?)ChainKey?.Clone(); // a caller who changes or clears its array later changes nothing here
        copy._gatedKinds = [.. _gatedKinds];
        return copy;
    }
}
