using System.Globalization;
using System.Numerics;

namespace Batpak;

/// <summary>
/// The one table of <see cref="BatpakOptions"/> rules: per setting its valid range and its configuration form. The
/// store's constructor (<see cref="ThrowIfInvalid"/>), the DI validator (<see cref="Failures"/>) and the configuration
/// binder (<see cref="Find"/>) use it, so the three give the same verdict in the same words. A new setting needs a
/// row here (a test walks the public properties and fails on one without).
/// </summary>
internal static partial class BatpakOptionRules
{
    /// <summary>
    /// The largest <see cref="BatpakOptions.FileHandleBudget"/>. Each cached handle holds one file descriptor and, for
    /// a sealed segment, one memory map; 8192 stays below the descriptor ceiling .NET reaches on macOS (10240) and far
    /// below Linux's default map-count limit (65530), leaving room for the rest of the process.
    /// </summary>
    public const int MaxFileHandleBudget = 8192;

    /// <summary>The longest <see cref="BatpakOptions.ShutdownDrainTimeout"/> and <see cref="BatpakOptions.SlowSyncThreshold"/>.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromDays(1);

    private const string UserKinds = "user kinds only (categories 0x1 to 0xC and 0xE to 0xF)";

    /// <summary>Every rule, in the order of the properties of <see cref="BatpakOptions"/>.</summary>
    public static IReadOnlyList<BatpakOptionRule> All { get; } =
    [
        new BatpakOptionRule<string>(
            nameof(BatpakOptions.DataDirectory), "a folder path: not empty or whitespace, no NUL character", "a path",
            static o => o.DataDirectory, static (o, v) => o.DataDirectory = v,
            static v => !string.IsNullOrWhiteSpace(v) && !v.Contains('\0', StringComparison.Ordinal), ParseText, ShowText, outOfRange: false),
        Number(nameof(BatpakOptions.SegmentMaxBytes), static o => o.SegmentMaxBytes, static (o, v) => o.SegmentMaxBytes = v, 4096L, 1L << 40, " (4 KiB to 1 TiB)"),
        Number(nameof(BatpakOptions.SyncEveryNEvents), static o => o.SyncEveryNEvents, static (o, v) => o.SyncEveryNEvents = v, 1, int.MaxValue),
        new BatpakOptionRule<SyncMode>(
            nameof(BatpakOptions.SyncMode), "Data or All", "Data or All (case-insensitive)",
            static o => o.SyncMode, static (o, v) => o.SyncMode = v, static v => Enum.IsDefined(v), ParseSyncMode, static v => v.ToString()),
        Number(nameof(BatpakOptions.FileHandleBudget), static o => o.FileHandleBudget, static (o, v) => o.FileHandleBudget = v, 1, MaxFileHandleBudget),
        Number(nameof(BatpakOptions.WriteQueueCapacity), static o => o.WriteQueueCapacity, static (o, v) => o.WriteQueueCapacity = v, 1, 1 << 24),
        Number(nameof(BatpakOptions.MaxBatchEvents), static o => o.MaxBatchEvents, static (o, v) => o.MaxBatchEvents = v, 1, 1 << 20),
        Number(nameof(BatpakOptions.MaxEventBytes), static o => o.MaxEventBytes, static (o, v) => o.MaxEventBytes = v, 1024, 1 << 30, " (1 KiB to 1 GiB)"),
        new BatpakOptionRule<string>(
            nameof(BatpakOptions.DefaultScope), $"a scope: 1 to {Coordinate.MaxLength} characters, no control character or lone surrogate", "a string",
            static o => o.DefaultScope, static (o, v) => o.DefaultScope = v, static v => Coordinate.Check(v) is null, ParseText,
            static v => $"{ShowText(v)} ({Coordinate.Check(v)})", outOfRange: false),
        Number(nameof(BatpakOptions.WriterRestartLimit), static o => o.WriterRestartLimit, static (o, v) => o.WriterRestartLimit = v, 0, 1000),
        Duration(nameof(BatpakOptions.WriterRestartWindow), static o => o.WriterRestartWindow, static (o, v) => o.WriterRestartWindow = v, "more than 00:00:00", static v => v > TimeSpan.Zero),
        Duration(nameof(BatpakOptions.ShutdownDrainTimeout), static o => o.ShutdownDrainTimeout, static (o, v) => o.ShutdownDrainTimeout = v, "00:00:00 to 1.00:00:00 (one day)", static v => v >= TimeSpan.Zero && v <= MaxWait),
        Duration(nameof(BatpakOptions.SlowSyncThreshold), static o => o.SlowSyncThreshold, static (o, v) => o.SlowSyncThreshold = v, "00:00:00 to 1.00:00:00 (one day)", static v => v >= TimeSpan.Zero && v <= MaxWait),
        new BatpakOptionRule<byte[]?>(
            nameof(BatpakOptions.ChainKey), $"null (no key) or at least {Storage.ChainHashing.MinKeyBytes} bytes", "base64 (standard alphabet, with padding) of the key's bytes",
            static o => o.ChainKey, static (o, v) => o.ChainKey = v, static v => v is null || v.Length >= Storage.ChainHashing.MinKeyBytes,
            ParseBase64, static v => $"{v?.Length ?? 0} bytes") { IsSecret = true },
        new BatpakOptionRule<IEnumerable<EventKind>>(
            nameof(BatpakOptions.GatedKinds), UserKinds,
            "event kinds as EventKind prints them (0x1001), separated by commas or given as an array; they are added to the set",
            static o => o.GatedKinds, static (o, v) => o.GatedKinds.UnionWith(v), static v => !v.Any(k => k.IsReserved), ParseKinds, ShowReserved, outOfRange: false,
            failure: static v => $"BatpakOptions.GatedKinds lists {ShowReserved(v)}, in a category reserved for the SDK; it must hold {UserKinds}.") { IsList = true },
    ];

    /// <summary>The rule of the setting <paramref name="name"/> (case-insensitive, as configuration keys are), or null.</summary>
    public static BatpakOptionRule? Find(string name)
    {
        foreach (BatpakOptionRule rule in All)
        {
            if (string.Equals(rule.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return rule;
            }
        }

        return null;
    }

    /// <summary>One failure text per invalid setting of <paramref name="options"/>, in table order; empty when all are valid.</summary>
    public static List<string> Failures(BatpakOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        foreach (BatpakOptionRule rule in All)
        {
            if (rule.Check(options) is { } failure)
            {
                failures.Add(failure);
            }
        }

        return failures;
    }

    /// <summary>Throws for the first invalid setting: <see cref="ArgumentOutOfRangeException"/> or <see cref="ArgumentException"/> whose parameter name is the setting and whose message is the rule's failure text.</summary>
    public static void ThrowIfInvalid(BatpakOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (BatpakOptionRule rule in All)
        {
            if (rule.Check(options) is { } failure)
            {
                throw rule.ToException(failure);
            }
        }
    }

    private static BatpakOptionRule<T> Number<T>(string name, Func<BatpakOptions, T> get, Action<BatpakOptions, T> set, T min, T max, string note = "")
        where T : struct, INumber<T>
    {
        string valid = $"{min.ToString(null, CultureInfo.InvariantCulture)} to {max.ToString(null, CultureInfo.InvariantCulture)}{note}";
        return new BatpakOptionRule<T>(
            name, valid, "an integer", get, set, v => v >= min && v <= max, ParseInteger, static v => v.ToString(null, CultureInfo.InvariantCulture));
    }

    private static BatpakOptionRule<TimeSpan> Duration(string name, Func<BatpakOptions, TimeSpan> get, Action<BatpakOptions, TimeSpan> set, string valid, Func<TimeSpan, bool> isValid) =>
        new(name, valid, "a time span in the constant (\"c\") format [-][d.]hh:mm:ss[.fffffff], for example 00:00:30", get, set, isValid, ParseDuration, ShowDuration);
}
