// The argument rules every append obeys, whatever the engine: coordinates, payload size, reserved kinds, SDK-owned
// flags, idempotency keys, expected sequences and gate permits. Called by StoreCore before an engine sees an append.

namespace Batpak.Engine;

/// <summary>Checks appends against one store's settings (<see cref="BatpakOptions.MaxEventBytes"/>, <see cref="BatpakOptions.GatedKinds"/>).</summary>
internal sealed class AppendRules
{
    private readonly int _maxEventBytes;
    private readonly GatedKindSet? _gatedKinds; // null when no kind is gated

    public AppendRules(BatpakOptions options)
    {
        _maxEventBytes = options.MaxEventBytes;
        _gatedKinds = GatedKindSet.From(options.GatedKinds);
    }

    /// <summary><see langword="true"/> when <paramref name="kind"/> is in <see cref="BatpakOptions.GatedKinds"/>: only a pipeline's permit appends it.</summary>
    public bool IsGated(EventKind kind) => _gatedKinds?.Contains(kind) == true;

    /// <summary>Checks one append. The gate permit is spent last, so only an append that passed every other check spends it.</summary>
    public void Check(in Coordinate coordinate, EventKind kind, int payloadLength, AppendOptions options)
    {
        coordinate.EnsureValid(nameof(coordinate));
        if (payloadLength > _maxEventBytes)
        {
            throw new EventTooLargeException(payloadLength, _maxEventBytes);
        }

        if (kind.IsReserved && options.BypassReason is null && (options.Flags & EventFlags.Tombstone) == 0)
        {
            throw new ArgumentException($"Event kind {kind} is in a reserved category (0x0 system, 0xD effect); user events use EventKind.Create with category 0x1..0xC or 0xE..0xF.", nameof(kind));
        }

        const EventFlags sdkOwned = EventFlags.Bypassed | EventFlags.Tombstone;
        if ((options.Flags & sdkOwned) != 0 && options.BypassReason is null)
        {
            throw new ArgumentException($"Flags {options.Flags & sdkOwned} are set by the SDK only (Bypass, compaction).", nameof(options));
        }

        if (options.IdempotencyKey is not null)
        {
            Coordinate.Validate(options.IdempotencyKey, "options.IdempotencyKey");
        }

        if (options.ExpectedSequence is < AppendOptions.NoStream)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.ExpectedSequence, "ExpectedSequence is -1 (AppendOptions.NoStream) or an entity sequence (0 or more).");
        }

        if (IsGated(kind) && options.GatePermit?.TryUse(kind, coordinate) != true)
        {
            throw new GateRequiredException(kind, coordinate);
        }
    }

    /// <summary>Checks a batch: not empty, and every event by <see cref="Check"/>.</summary>
    public void CheckBatch(IReadOnlyList<EventData> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0)
        {
            throw new ArgumentException("The batch is empty.", nameof(events));
        }

        for (int i = 0; i < events.Count; i++)
        {
            EventData e = events[i];
            if (!e.Coordinate.IsValid)
            {
                throw new ArgumentException($"Event {i} of the batch has default(Coordinate).", nameof(events));
            }

            Check(e.Coordinate, e.Kind, e.Payload.Length, e.Options ?? AppendOptions.Default);
        }
    }

    /// <summary>Checks a named cursor's name: 1 to 128 letters, digits, '.', '-' or '_', not starting with '.'.</summary>
    public static void CheckCursorName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Length > 128 || !name.All(static c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_') || name.StartsWith('.'))
        {
            throw new ArgumentException($"Cursor name \"{name}\" is not 1 to 128 letters, digits, '.', '-' or '_' (not starting with '.').", nameof(name));
        }
    }
}
