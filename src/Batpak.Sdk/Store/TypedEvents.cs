using MessagePack;

namespace Batpak;

/// <summary>A stored event read back as its typed record.</summary>
/// <typeparam name="TEvent">The event record.</typeparam>
public sealed class StoredEvent<TEvent>
    where TEvent : IBatpakEvent<TEvent>
{
    internal StoredEvent(StoredEvent raw, TEvent value)
    {
        Raw = raw;
        Event = value;
    }

    /// <summary>The untyped event: coordinate, header, payload bytes.</summary>
    public StoredEvent Raw { get; }

    /// <summary>The decoded event record.</summary>
    public TEvent Event { get; }

    /// <summary>Shorthand for <c>Raw.Header</c>.</summary>
    public EventHeader Header => Raw.Header;

    /// <summary>Shorthand for <c>Raw.Coordinate</c>.</summary>
    public Coordinate Coordinate => Raw.Coordinate;

    /// <summary>Returns the raw event's description and the record.</summary>
    public override string ToString() => $"{Raw}: {Event}";
}

/// <summary>
/// A stored event decoded through the event registries of the loaded assemblies: <see cref="Event"/> is the typed
/// record (pattern-match on it), or <see langword="null"/> when no loaded assembly declares the kind (the raw
/// payload is still there).
/// </summary>
public sealed class TypedEvent
{
    internal TypedEvent(StoredEvent raw, object? value)
    {
        Raw = raw;
        Event = value;
    }

    /// <summary>The untyped event.</summary>
    public StoredEvent Raw { get; }

    /// <summary>The decoded record, or <see langword="null"/> for a kind no registry knows (or a tombstone).</summary>
    public object? Event { get; }

    /// <summary><see langword="true"/> when <see cref="Event"/> holds the decoded record.</summary>
    public bool IsKnown => Event is not null;

    /// <summary>Returns the raw event's description and the record.</summary>
    public override string ToString() => $"{Raw}: {Event?.ToString() ?? "(unknown kind)"}";
}

/// <summary>A stored payload could not be decoded as the requested event type.</summary>
public sealed class EventDecodeException : BatpakException
{
    /// <summary>Creates the exception.</summary>
    public EventDecodeException(EventId eventId, EventKind kind, Type requested, string reason, Exception? innerException = null)
        : base($"Event {eventId} (kind {kind}) cannot be read as {requested.Name}: {reason}", innerException!)
    {
        EventId = eventId;
        Kind = kind;
        RequestedType = requested;
    }

    /// <summary>Creates the exception.</summary>
    public EventDecodeException()
    {
        RequestedType = typeof(object);
    }

    /// <summary>Creates the exception.</summary>
    public EventDecodeException(string message)
        : base(message)
    {
        RequestedType = typeof(object);
    }

    /// <summary>Creates the exception.</summary>
    public EventDecodeException(string message, Exception innerException)
        : base(message, innerException)
    {
        RequestedType = typeof(object);
    }

    /// <summary>The event that was read.</summary>
    public EventId EventId { get; }

    /// <summary>The event's stored kind.</summary>
    public EventKind Kind { get; }

    /// <summary>The type it was asked to decode into.</summary>
    public Type RequestedType { get; }
}

/// <summary>
/// The typed API over any <see cref="IEventStore"/>, for records marked <see cref="BatpakEventAttribute"/>: kind,
/// coordinate and serializer come from the generated code by static dispatch (no reflection, no boxing).
/// </summary>
public static class TypedEventStoreExtensions
{
    /// <summary>Appends a typed event at the coordinate its <c>[Entity]</c>/<c>[Scope]</c> members build.</summary>
    /// <exception cref="ArgumentException">The built coordinate is invalid.</exception>
    /// <inheritdoc cref="IEventStore.Append" path="/exception"/>
    public static AppendReceipt Append<TEvent>(this IEventStore store, TEvent evt, AppendOptions? options = null)
        where TEvent : IBatpakEvent<TEvent>
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(evt);
        Coordinate coordinate = evt.GetCoordinate(store.DefaultScope);
        var buffer = PayloadBuffer.Rent();
        try
        {
            var writer = new MessagePackWriter(buffer);
            TEvent.Serialize(ref writer, evt);
            writer.Flush();
            return store.Append(coordinate, TEvent.Kind, buffer.WrittenSpan, options);
        }
        finally
        {
            PayloadBuffer.Return(buffer);
        }
    }

    /// <summary>Appends a typed event caused by <paramref name="cause"/> (causation set, correlation inherited).</summary>
    public static AppendReceipt AppendReaction<TEvent>(this IEventStore store, EventId cause, TEvent evt, AppendOptions? options = null)
        where TEvent : IBatpakEvent<TEvent>
    {
        ArgumentNullException.ThrowIfNull(store);
        options = (options ?? AppendOptions.Default) with { CausationId = cause };
        if (cause.IsEmpty)
        {
            throw new ArgumentException("The cause is EventId.Empty; pass the id of an event in the store.", nameof(cause));
        }

        return store.Append(evt, options);
    }

    /// <summary>Appends a typed event and completes once it is durable.</summary>
    public static ValueTask<AppendReceipt> AppendAsync<TEvent>(this IEventStore store, TEvent evt, AppendOptions? options = null, CancellationToken cancellationToken = default)
        where TEvent : IBatpakEvent<TEvent>
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(evt);
        Coordinate coordinate = evt.GetCoordinate(store.DefaultScope);
        byte[] payload = BatpakEvents.SerializeToArray(evt); // must outlive the call: the writer encodes it later
        return store.AppendAsync(coordinate, TEvent.Kind, payload, options, cancellationToken);
    }

    /// <summary>Builds the atomic-batch entry of a typed event (its payload is serialized now).</summary>
    public static EventData ToEventData<TEvent>(this IEventStore store, TEvent evt, AppendOptions? options = null)
        where TEvent : IBatpakEvent<TEvent>
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(evt);
        return new EventData(evt.GetCoordinate(store.DefaultScope), TEvent.Kind, BatpakEvents.SerializeToArray(evt), options);
    }

    /// <summary>Reads one event as <typeparamref name="TEvent"/>.</summary>
    /// <exception cref="EventNotFoundException">No such event.</exception>
    /// <exception cref="EventDecodeException">The event has another kind, or its payload does not decode.</exception>
    public static StoredEvent<TEvent> Get<TEvent>(this IEventStore store, EventId id)
        where TEvent : IBatpakEvent<TEvent>
    {
        ArgumentNullException.ThrowIfNull(store);
        return Decode<TEvent>(store.Get(id));
    }

    /// <summary>The events of kind <typeparamref name="TEvent"/> inside <paramref name="region"/>, decoded, in global order.</summary>
    /// <exception cref="EventDecodeException">A payload of that kind does not decode (raised when enumerated).</exception>
    public static IEnumerable<StoredEvent<TEvent>> Read<TEvent>(this IEventStore store, Region region)
        where TEvent : IBatpakEvent<TEvent>
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(region);
        return DecodeAll<TEvent>(store.Read(region.WithKinds(KindFilter.Exact(TEvent.Kind))));
    }

    /// <summary>An entity's events of kind <typeparamref name="TEvent"/> from its sequence <paramref name="fromSequence"/> on, decoded, in sequence order.</summary>
    /// <exception cref="EventDecodeException">A payload of that kind does not decode (raised when enumerated).</exception>
    public static IEnumerable<StoredEvent<TEvent>> Stream<TEvent>(this IEventStore store, string entity, long fromSequence = 0)
        where TEvent : IBatpakEvent<TEvent>
    {
        ArgumentNullException.ThrowIfNull(store);
        return DecodeAll<TEvent>(store.Stream(entity, fromSequence).Where(static e => e.Kind == TEvent.Kind));
    }

    /// <summary>
    /// An entity's events of every kind from its sequence <paramref name="fromSequence"/> on, decoded through the
    /// loaded assemblies' generated registries: pattern-match on <see cref="TypedEvent.Event"/>. Kinds no registry
    /// knows, and tombstones, come with <c>Event == null</c>.
    /// </summary>
    /// <exception cref="EventDecodeException">A payload of a known kind does not decode (raised when enumerated).</exception>
    public static IEnumerable<TypedEvent> StreamTyped(this IEventStore store, string entity, long fromSequence = 0)
    {
        ArgumentNullException.ThrowIfNull(store);
        return DecodeTyped(store.Stream(entity, fromSequence));
    }

    /// <summary>The events inside <paramref name="region"/>, decoded through the loaded assemblies' registries (see <see cref="StreamTyped"/>).</summary>
    /// <exception cref="EventDecodeException">A payload of a known kind does not decode (raised when enumerated).</exception>
    public static IEnumerable<TypedEvent> ReadTyped(this IEventStore store, Region region)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(region);
        return DecodeTyped(store.Read(region));
    }

    private static IEnumerable<TypedEvent> DecodeTyped(IEnumerable<StoredEvent> events)
    {
        IEventTypeRegistry registry = BatpakEventRegistries.Combined;
        foreach (StoredEvent e in events)
        {
            object? value = null;
            if (!e.Header.Flags.HasFlag(EventFlags.Tombstone) && registry.TryGetInfo(e.Kind, out EventTypeInfo? info))
            {
                try
                {
                    value = info.Deserialize(e.Payload);
                }
                catch (MessagePackSerializationException ex)
                {
                    throw new EventDecodeException(e.Id, e.Kind, info.Type, ex.Message, ex);
                }
            }

            yield return new TypedEvent(e, value);
        }
    }

    /// <summary>Decodes a stored event as <typeparamref name="TEvent"/>.</summary>
    /// <exception cref="EventDecodeException">It has another kind, is a tombstone, or its payload does not decode.</exception>
    public static StoredEvent<TEvent> Decode<TEvent>(StoredEvent storedEvent)
        where TEvent : IBatpakEvent<TEvent>
    {
        ArgumentNullException.ThrowIfNull(storedEvent);
        if (storedEvent.Kind != TEvent.Kind)
        {
            throw new EventDecodeException(storedEvent.Id, storedEvent.Kind, typeof(TEvent), $"its kind is {storedEvent.Kind}, {typeof(TEvent).Name} is {TEvent.Kind}");
        }

        if (storedEvent.Header.Flags.HasFlag(EventFlags.Tombstone))
        {
            throw new EventDecodeException(storedEvent.Id, storedEvent.Kind, typeof(TEvent), "it is a tombstone; compaction removed its payload");
        }

        try
        {
            return new StoredEvent<TEvent>(storedEvent, BatpakEvents.Deserialize<TEvent>(storedEvent.Payload));
        }
        catch (MessagePackSerializationException ex)
        {
            throw new EventDecodeException(storedEvent.Id, storedEvent.Kind, typeof(TEvent), ex.Message, ex);
        }
    }

    private static IEnumerable<StoredEvent<TEvent>> DecodeAll<TEvent>(IEnumerable<StoredEvent> events)
        where TEvent : IBatpakEvent<TEvent>
    {
        foreach (StoredEvent e in events)
        {
            if (!e.Header.Flags.HasFlag(EventFlags.Tombstone))
            {
                yield return Decode<TEvent>(e);
            }
        }
    }
}
