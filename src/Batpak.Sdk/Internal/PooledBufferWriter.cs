using System.Buffers;
using System.Diagnostics;

namespace Batpak;

/// <summary>
/// An <see cref="IBufferWriter{T}"/> over one <see cref="ArrayPool{T}"/> array, reused across calls with
/// <see cref="Reset"/>. Not thread-safe: one owner at a time (the store's batch buffer belongs to its writer and is used only under the write lock).
/// </summary>
internal sealed class PooledBufferWriter : IBufferWriter<byte>, IDisposable
{
    private byte[] _buffer;
    private int _written;

    public PooledBufferWriter(int initialCapacity = 64 * 1024)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(initialCapacity);
    }

    public int WrittenCount => _written;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _written);

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _written);

    /// <summary>The written bytes, writable (to patch a frame header after its body is known).</summary>
    public Span<byte> WrittenSpanMutable => _buffer.AsSpan(0, _written);

    public void Reset() => _written = 0;

    /// <summary>Drops everything after <paramref name="length"/> bytes.</summary>
    public void Truncate(int length)
    {
        Debug.Assert(length >= 0 && length <= _written);
        _written = length;
    }

    /// <summary>Moves the bytes <c>[start, WrittenCount)</c> to the front.</summary>
    public void RemovePrefix(int start)
    {
        Debug.Assert(start >= 0 && start <= _written);
        Buffer.BlockCopy(_buffer, start, _buffer, 0, _written - start);
        _written -= start;
    }

    public void Advance(int count)
    {
        Debug.Assert(count >= 0 && _written + count <= _buffer.Length);
        _written += count;
    }

    /// <summary>Reserves <paramref name="count"/> bytes (to be patched later) and advances past them.</summary>
    public void Advance(int count, bool reserve)
    {
        if (reserve)
        {
            EnsureCapacity(count);
        }

        Advance(count);
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        EnsureCapacity(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        EnsureCapacity(sizeHint);
        return _buffer.AsSpan(_written);
    }

    public void Dispose()
    {
        byte[] buffer = _buffer;
        _buffer = [];
        _written = 0;
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void EnsureCapacity(int sizeHint)
    {
        int needed = _written + Math.Max(sizeHint, 1);
        if (needed <= _buffer.Length)
        {
            return;
        }

        int newSize = Math.Max(needed, checked(_buffer.Length * 2));
        byte[] next = ArrayPool<byte>.Shared.Rent(newSize);
        Buffer.BlockCopy(_buffer, 0, next, 0, _written);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = next;
    }
}
