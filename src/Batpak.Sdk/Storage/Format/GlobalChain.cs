using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Batpak.Storage;

/// <summary>
/// The whole-log chain (docs/FORMAT.md, "Global chain"): every event hash in global-sequence order, in blocks of
/// <see cref="BlockSize"/>, each block digest chained to the one before. <see cref="Head"/> is the digest of the first
/// <see cref="Next"/> events, independent of how they are split into segments, so compaction (which keeps every hash,
/// and records the hashes of what it drops) never changes it. Not thread-safe: the index owns one and calls it under
/// its lock.
/// </summary>
internal sealed class GlobalChain : IDisposable
{
    /// <summary>Event hashes per block: a block digest is one hash call per this many events.</summary>
    public const int BlockSize = 1024;

    private readonly byte[]? _key;
    private readonly IncrementalHash _hash;
    private readonly byte[] _partial = new byte[BlockSize * EventHash.Size];
    private int _count; // hashes in _partial
    private EventHash _blocks; // digest of every complete block so far

    public GlobalChain(byte[]? key)
    {
        _key = key;
        _hash = ChainHashing.Create(key);
    }

    /// <summary>Events chained so far: the next global sequence.</summary>
    public long Next { get; private set; }

    /// <summary>Events folded into complete blocks (a multiple of <see cref="BlockSize"/>): what <see cref="Blocks"/> covers.</summary>
    public long Folded => Next - _count;

    /// <summary>The digest of every complete block so far (zero before the first block completes).</summary>
    public EventHash Blocks => _blocks;

    /// <summary>
    /// A chain resumed from stored fold state (an engine that keeps <see cref="Folded"/> and <see cref="Blocks"/>
    /// rather than every hash): <paramref name="open"/> are the hashes of the events from <paramref name="folded"/> on,
    /// fewer than <see cref="BlockSize"/>.
    /// </summary>
    public static GlobalChain Resume(byte[]? key, long folded, in EventHash blocks, ReadOnlySpan<EventHash> open)
    {
        if (folded < 0 || folded % BlockSize != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(folded), folded, $"The folded count is a non-negative multiple of {BlockSize}.");
        }

        if (open.Length >= BlockSize)
        {
            throw new ArgumentOutOfRangeException(nameof(open), open.Length, $"An open block holds fewer than {BlockSize} hashes.");
        }

        var chain = new GlobalChain(key) { Next = folded, _blocks = blocks };
        foreach (EventHash hash in open)
        {
            chain.Add(hash);
        }

        return chain;
    }

    /// <summary>Chains the hash of the event with global sequence <see cref="Next"/>.</summary>
    public void Add(in EventHash hash)
    {
        hash.WriteBytes(_partial.AsSpan(_count * EventHash.Size));
        Next++;
        if (++_count == BlockSize)
        {
            _blocks = Digest((byte)'B', _blocks, _partial, -1);
            _count = 0;
        }
    }

    /// <summary>The digest of the first <see cref="Next"/> events.</summary>
    public EventHash Head() => Digest((byte)'H', _blocks, _partial.AsSpan(0, _count * EventHash.Size), Next);

    /// <summary>The head the chain would have after also chaining <paramref name="pending"/>; this chain is unchanged.</summary>
    public EventHash HeadWith(ReadOnlySpan<EventHash> pending)
    {
        if (pending.IsEmpty)
        {
            return Head();
        }

        using GlobalChain copy = Clone();
        foreach (EventHash hash in pending)
        {
            copy.Add(hash);
        }

        return copy.Head();
    }

    /// <summary>An independent copy of this chain's state.</summary>
    public GlobalChain Clone()
    {
        var copy = new GlobalChain(_key) { Next = Next, _count = _count, _blocks = _blocks };
        _partial.AsSpan(0, _count * EventHash.Size).CopyTo(copy._partial);
        return copy;
    }

    public void Dispose() => _hash.Dispose();

    private EventHash Digest(byte label, in EventHash previous, ReadOnlySpan<byte> hashes, long next)
    {
        Span<byte> head = stackalloc byte[1 + EventHash.Size];
        head[0] = label;
        previous.WriteBytes(head[1..]);
        _hash.AppendData(head);
        _hash.AppendData(hashes);
        if (next >= 0)
        {
            Span<byte> count = stackalloc byte[8];
            BinaryPrimitives.WriteInt64BigEndian(count, next);
            _hash.AppendData(count);
        }

        Span<byte> digest = stackalloc byte[EventHash.Size];
        _hash.GetHashAndReset(digest);
        return EventHash.FromBytes(digest);
    }
}
