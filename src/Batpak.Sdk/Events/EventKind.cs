using System.Globalization;

namespace Batpak;

/// <summary>
/// The type of an event as a 16-bit number: the upper 4 bits are the <see cref="Category"/>, the lower 12 the
/// <see cref="Type"/>. Categories <c>0x0</c> (system) and <c>0xD</c> (effect) are reserved for the SDK.
/// </summary>
public readonly record struct EventKind
{
    /// <summary>The system category, reserved for the SDK's own events (tombstones, markers).</summary>
    public const byte SystemCategory = 0x0;

    /// <summary>The effect category, reserved for the SDK.</summary>
    public const byte EffectCategory = 0xD;

    /// <summary>The largest <see cref="Type"/> value (12 bits).</summary>
    public const ushort MaxType = 0x0FFF;

    /// <summary>The largest <see cref="Category"/> value (4 bits).</summary>
    public const byte MaxCategory = 0xF;

    private EventKind(ushort value) => Value = value;

    /// <summary>The raw 16-bit value: <c>(Category &lt;&lt; 12) | Type</c>.</summary>
    public ushort Value { get; }

    /// <summary>The upper 4 bits.</summary>
    public byte Category => (byte)(Value >> 12);

    /// <summary>The lower 12 bits.</summary>
    public ushort Type => (ushort)(Value & MaxType);

    /// <summary><see langword="true"/> when the category is reserved for the SDK.</summary>
    public bool IsReserved => IsReservedCategory(Category);

    /// <summary>Creates a user event kind.</summary>
    /// <param name="category">1..15 except 0xD.</param>
    /// <param name="type">0..4095.</param>
    /// <exception cref="ArgumentOutOfRangeException">A part is out of range or the category is reserved.</exception>
    public static EventKind Create(byte category, ushort type)
    {
        if (category > MaxCategory)
        {
            throw new ArgumentOutOfRangeException(nameof(category), category, $"An event category is 4 bits (0x0..0xF); got 0x{category:X}.");
        }

        if (IsReservedCategory(category))
        {
            throw new ArgumentOutOfRangeException(nameof(category), category, $"Category 0x{category:X} is reserved for the SDK (0x0 system, 0xD effect); user events use 0x1..0xC or 0xE..0xF.");
        }

        if (type > MaxType)
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, $"An event type is 12 bits (0x000..0xFFF); got 0x{type:X}.");
        }

        return new EventKind((ushort)((category << 12) | type));
    }

    /// <summary>Reinterprets a raw value read from disk or produced by the SDK, including reserved kinds.</summary>
    public static EventKind FromValue(ushort value) => new(value);

    /// <summary>Creates a kind in a reserved category; only the SDK itself does this.</summary>
    internal static EventKind CreateReserved(byte category, ushort type) => new((ushort)((category << 12) | (type & MaxType)));

    /// <summary><see langword="true"/> for the SDK's reserved categories 0x0 and 0xD.</summary>
    public static bool IsReservedCategory(byte category) => category is SystemCategory or EffectCategory;

    /// <summary>Returns <c>0xCTTT</c>.</summary>
    public override string ToString() => "0x" + Value.ToString("X4", CultureInfo.InvariantCulture);
}
