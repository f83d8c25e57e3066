using System.Buffers;
using MessagePack;

namespace Batpak;

/// <summary>Turns a payload into the bytes the store appends. Must be thread-safe; a pipeline shares one across threads.</summary>
/// <typeparam name="T">The payload type.</typeparam>
public interface IPayloadEncoder<in T>
{
    /// <summary>Writes <paramref name="value"/> into <paramref name="destination"/>.</summary>
    /// <param name="value">The payload.</param>
    /// <param name="destination">A buffer the pipeline reuses (per thread); write the whole payload and do not keep a reference to it.</param>
    void Encode(T value, IBufferWriter<byte> destination);
}

/// <summary>Ready-made <see cref="IPayloadEncoder{T}"/> implementations.</summary>
public static class PayloadEncoder
{
    /// <summary>The encoder of a typed event: its generated MessagePack <see cref="IBatpakEvent{TSelf}.Serialize"/>, by static dispatch. A shared instance.</summary>
    public static IPayloadEncoder<TEvent> ForEvent<TEvent>()
        where TEvent : IBatpakEvent<TEvent> => BatpakEventEncoder<TEvent>.Instance;

    /// <summary>Wraps a function that writes into the buffer. No copy beyond what the function writes.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="encode"/> is null.</exception>
    public static IPayloadEncoder<T> Create<T>(Action<T, IBufferWriter<byte>> encode)
    {
        ArgumentNullException.ThrowIfNull(encode);
        return new WriterEncoder<T>(encode);
    }

    /// <summary>Wraps a function that returns a byte array (convenient; allocates the array, then copies it into the buffer).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="encode"/> is null.</exception>
    public static IPayloadEncoder<T> Create<T>(Func<T, byte[]> encode)
    {
        ArgumentNullException.ThrowIfNull(encode);
        return new ArrayEncoder<T>(encode);
    }

    private sealed class WriterEncoder<T>(Action<T, IBufferWriter<byte>> encode) : IPayloadEncoder<T>
    {
        public void Encode(T value, IBufferWriter<byte> destination) => encode(value, destination);
    }

    private sealed class ArrayEncoder<T>(Func<T, byte[]> encode) : IPayloadEncoder<T>
    {
        public void Encode(T value, IBufferWriter<byte> destination) =>
            destination.Write(encode(value) ?? throw new InvalidOperationException($"The payload encoder of {typeof(T).Name} returned null."));
    }
}

/// <summary>Encodes a typed event with its generated MessagePack serializer. Stateless; one shared instance per type.</summary>
internal sealed class BatpakEventEncoder<TEvent> : IPayloadEncoder<TEvent>
    where TEvent : IBatpakEvent<TEvent>
{
    public static readonly BatpakEventEncoder<TEvent> Instance = new();

    public void Encode(TEvent value, IBufferWriter<byte> destination)
    {
        var writer = new MessagePackWriter(destination);
        TEvent.Serialize(ref writer, value);
        writer.Flush();
    }
}
