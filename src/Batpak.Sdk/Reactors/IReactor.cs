namespace Batpak;

/// <summary>
/// A reactor: sees each event of its <see cref="Region"/> once it is committed and derives new events from it
/// (a welcome mail requested for an account opened, a stock reservation for an order placed). Run it with a
/// <see cref="ReactorRunner"/>, which appends what it emits as reactions (causation set to the source event,
/// correlation inherited).
/// </summary>
/// <remarks>
/// <para>Delivery: every event of the region is offered at least once; an offer may repeat after a crash or a
/// failed attempt, so <see cref="React"/> must be deterministic for the exactly-once guarantee of its effects (the
/// derived events are de-duplicated by idempotency keys built from the reactor name, the source event id and the
/// position in the output). Side effects outside the store are at-least-once.</para>
/// <para><see cref="React"/> runs on the runner's background task, one event at a time, never on the store's writer
/// thread; it may block (it delays only this reactor).</para>
/// </remarks>
public interface IReactor
{
    /// <summary>
    /// The reactor's stable name: 1 to 120 letters, digits, '.', '-' or '_'. It names the durable cursor
    /// (<c>reactor.{Name}</c>) and prefixes the idempotency keys, so renaming a reactor makes it start over.
    /// </summary>
    string Name { get; }

    /// <summary>The events the reactor sees. The events it derived itself are never shown to it, even inside the region.</summary>
    Region Region { get; }

    /// <summary>Derives events from <paramref name="source"/> into <paramref name="output"/> (nothing when it does not care).</summary>
    /// <param name="source">The committed event, decoded through the loaded registries (<see cref="TypedEvent.Event"/> is <see langword="null"/> for unknown kinds and tombstones).</param>
    /// <param name="output">Collects the derived events; appended together once <see cref="React"/> returns.</param>
    /// <exception cref="Exception">Anything: the runner reports it, retries with backoff and then skips the event or stops (<see cref="ReactorOptions.PoisonEventPolicy"/>).</exception>
    void React(TypedEvent source, ReactionOutput output);
}

/// <summary>A reactor to one event type: sees the events of kind <typeparamref name="TEvent"/>, decoded by static dispatch.</summary>
/// <typeparam name="TEvent">The source event record.</typeparam>
public abstract class Reactor<TEvent> : IReactor
    where TEvent : IBatpakEvent<TEvent>
{
    /// <summary>Creates the reactor.</summary>
    /// <param name="name">See <see cref="IReactor.Name"/>.</param>
    protected Reactor(string name)
    {
        ReactorRunner.ValidateName(name);
        Name = name;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>Every event of kind <typeparamref name="TEvent"/>; override to narrow it (an entity prefix, a scope).</summary>
    public virtual Region Region => Region.ForKind(TEvent.Kind);

    /// <summary>Derives events from one <typeparamref name="TEvent"/>.</summary>
    /// <param name="source">The source event, typed.</param>
    /// <param name="output">Collects the derived events.</param>
    protected abstract void React(StoredEvent<TEvent> source, ReactionOutput output);

    /// <inheritdoc />
    void IReactor.React(TypedEvent source, ReactionOutput output)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.Raw.Kind != TEvent.Kind || source.Raw.Header.Flags.HasFlag(EventFlags.Tombstone))
        {
            return; // a region wider than the kind, or a payload compaction removed
        }

        React(source.Event is TEvent typed ? new StoredEvent<TEvent>(source.Raw, typed) : TypedEventStoreExtensions.Decode<TEvent>(source.Raw), output);
    }
}
