using System.Buffers;

namespace Batpak;

/// <summary>
/// One reusable encode buffer per thread, so committing does not allocate a byte array per event.
/// </summary>
/// <remarks>
/// Safe because <see cref="IEventStore.Append"/> copies the payload before it returns, so the buffer is free again
/// once the commit returns. <see cref="Rent"/> takes the thread's buffer out of its slot, so a re-entrant commit on
/// the same thread (an encoder or store that commits) gets a fresh one instead of overwriting the outer payload.
/// Buffers that grew beyond <see cref="MaxRetainedBytes"/> are dropped rather than kept alive by an idle thread.
/// </remarks>
internal static class PayloadBuffer
{
    internal const int MaxRetainedBytes = 1024 * 1024;

#pragma warning disable IDE1006 // STYLE 2.2 names [ThreadStatic] fields t_; .editorconfig cannot tell them from s_ statics.
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;
#pragma warning restore IDE1006

    public static ArrayBufferWriter<byte> Rent()
    {
        ArrayBufferWriter<byte>? buffer = t_buffer;
        if (buffer is null)
        {
            return new ArrayBufferWriter<byte>(256);
        }

        t_buffer = null;
        buffer.ResetWrittenCount();
        return buffer;
    }

    public static void Return(ArrayBufferWriter<byte> buffer)
    {
        if (buffer.Capacity <= MaxRetainedBytes)
        {
            t_buffer = buffer;
        }
    }
}
