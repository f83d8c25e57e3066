using System.Diagnostics.CodeAnalysis;

namespace Batpak;

/// <summary>
/// Maps <see cref="EventKind"/> values to event types and turns a stored payload back into a typed event, so a
/// stream of mixed kinds reads back as typed objects. The generator emits one per assembly
/// (<c>Batpak.Generated.{AssemblyName}.BatpakEventRegistry</c>); <see cref="BatpakEventRegistries.Combined"/> merges
/// every registered one.
/// </summary>
/// <remarks>Implementations are immutable and safe to use from any thread.</remarks>
public interface IEventTypeRegistry
{
    /// <summary>Every event type this registry knows, ordered by <see cref="EventKind.Value"/>.</summary>
    IReadOnlyCollection<EventTypeInfo> Types { get; }

    /// <summary>Finds the registration for <paramref name="kind"/>.</summary>
    /// <returns><see langword="true"/> when the kind is registered.</returns>
    bool TryGetInfo(EventKind kind, [NotNullWhen(true)] out EventTypeInfo? info);

    /// <summary>Finds the CLR type registered for <paramref name="kind"/>.</summary>
    /// <returns><see langword="true"/> when the kind is registered.</returns>
    bool TryGetType(EventKind kind, [NotNullWhen(true)] out Type? type);

    /// <summary>
    /// Deserializes <paramref name="payload"/> (bytes written by the generated serializer) as the event type
    /// registered for <paramref name="kind"/>.
    /// </summary>
    /// <returns><see langword="false"/> when the kind is not registered; the payload is then not read.</returns>
    /// <exception cref="MessagePack.MessagePackSerializationException">The kind is registered but the payload is malformed.</exception>
    bool TryDeserialize(EventKind kind, ReadOnlyMemory<byte> payload, [NotNullWhen(true)] out object? value);
}
