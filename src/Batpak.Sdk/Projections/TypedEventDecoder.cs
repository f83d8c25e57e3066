using MessagePack;

namespace Batpak;

/// <summary>Decodes one stored event through the loaded assemblies' registries, as <c>ReadTyped</c> does for a whole region.</summary>
internal static class TypedEventDecoder
{
    /// <summary>The event as a <see cref="TypedEvent"/>: the record for a known kind, <see langword="null"/> for an unknown kind or a tombstone.</summary>
    /// <exception cref="EventDecodeException">A payload of a known kind does not decode.</exception>
    public static TypedEvent Decode(StoredEvent storedEvent)
    {
        object? value = null;
        if (!storedEvent.Header.Flags.HasFlag(EventFlags.Tombstone) && BatpakEventRegistries.Combined.TryGetInfo(storedEvent.Kind, out EventTypeInfo? info))
        {
            try
            {
                value = info.Deserialize(storedEvent.Payload);
            }
            catch (MessagePackSerializationException ex)
            {
                throw new EventDecodeException(storedEvent.Id, storedEvent.Kind, info.Type, ex.Message, ex);
            }
        }

        return new TypedEvent(storedEvent, value);
    }
}
