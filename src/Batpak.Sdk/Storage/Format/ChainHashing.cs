using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Batpak.Storage;

/// <summary>
/// Which hash the chains use: SHA-256, or HMAC-SHA256 under <see cref="BatpakOptions.ChainKey"/>. Every place that
/// computes an event hash, a block digest or a record MAC gets its hash object here, so keyed and unkeyed stores
/// differ in exactly one spot.
/// </summary>
internal static class ChainHashing
{
    /// <summary>The shortest chain key accepted.</summary>
    public const int MinKeyBytes = 16;

    /// <summary>A reusable hash for event links and digests: HMAC-SHA256 under <paramref name="key"/>, or SHA-256 when it is null.</summary>
    public static IncrementalHash Create(byte[]? key) =>
        key is null ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);

    /// <summary>
    /// The value a keyed segment header carries so that a wrong or missing key is reported at open rather than as a
    /// broken chain: 64 bits of an HMAC of a fixed label, never 0 (0 means "not keyed"). It reveals nothing usable
    /// about the key.
    /// </summary>
    public static ulong KeyCheck(byte[]? key)
    {
        if (key is null)
        {
            return 0;
        }

        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(key, "batpak chain key check, format 2"u8, mac);
        return BinaryPrimitives.ReadUInt64BigEndian(mac) | 1;
    }
}
