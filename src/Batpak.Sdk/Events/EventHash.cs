using System.Buffers.Binary;

namespace Batpak;

/// <summary>A 32-byte SHA-256 digest, a link of an entity's hash chain. A value type: copying it allocates nothing.</summary>
public readonly record struct EventHash
{
    /// <summary>The digest length in bytes.</summary>
    public const int Size = 32;

    private readonly ulong _a;
    private readonly ulong _b;
    private readonly ulong _c;
    private readonly ulong _d;

    private EventHash(ulong a, ulong b, ulong c, ulong d)
    {
        _a = a;
        _b = b;
        _c = c;
        _d = d;
    }

    /// <summary>All zero bits: the previous hash of an entity's first event.</summary>
    public static EventHash Zero => default;

    /// <summary><see langword="true"/> for <see cref="Zero"/>.</summary>
    public bool IsZero => (_a | _b | _c | _d) == 0;

    /// <summary>Reads a digest from exactly 32 bytes.</summary>
    /// <exception cref="ArgumentException"><paramref name="bytes"/> is not 32 bytes long.</exception>
    public static EventHash FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
        {
            throw new ArgumentException($"An event hash is {Size} bytes; got {bytes.Length}.", nameof(bytes));
        }

        return new EventHash(
            BinaryPrimitives.ReadUInt64BigEndian(bytes),
            BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]),
            BinaryPrimitives.ReadUInt64BigEndian(bytes[16..]),
            BinaryPrimitives.ReadUInt64BigEndian(bytes[24..]));
    }

    /// <summary>Writes the 32 digest bytes.</summary>
    public void WriteBytes(Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            throw new ArgumentException($"The destination holds {destination.Length} bytes; an event hash needs {Size}.", nameof(destination));
        }

        BinaryPrimitives.WriteUInt64BigEndian(destination, _a);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _b);
        BinaryPrimitives.WriteUInt64BigEndian(destination[16..], _c);
        BinaryPrimitives.WriteUInt64BigEndian(destination[24..], _d);
    }

    /// <summary>Returns a new 32-byte array holding the digest.</summary>
    public byte[] ToArray()
    {
        byte[] bytes = new byte[Size];
        WriteBytes(bytes);
        return bytes;
    }

    /// <summary>Returns the digest as 64 lower-case hex characters.</summary>
    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[Size];
        WriteBytes(bytes);
        return Convert.ToHexStringLower(bytes);
    }
}
