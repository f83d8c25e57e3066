using MessagePack;

namespace Batpak;

/// <summary>
/// A projection: the state of one entity folded from its events, in sequence order, starting at
/// <see cref="Initial"/>. Implemented by the state type itself (usually an immutable record), so the engine calls
/// every member by static dispatch (no reflection, no boxing of the state, AOT-safe).
/// </summary>
/// <typeparam name="TSelf">The implementing state type.</typeparam>
/// <remarks>
/// <para><see cref="Apply"/> must be deterministic and must not have side effects: the engine may fold the same
/// event again (after a cache was discarded, or in a second process) and expects the same state.</para>
/// <para>The state also supplies its own MessagePack serializer (<see cref="Serialize"/> and
/// <see cref="Deserialize"/>) so an on-disk cache (<see cref="DiskProjectionCache"/>) can keep it across restarts.
/// Bump <see cref="SchemaVersion"/> whenever <see cref="Apply"/> or the serialized layout changes: a cached state
/// written under another version is never read, it is discarded and the entity refolded from its first event.</para>
/// </remarks>
/// <example>
/// <code>
/// public sealed record Balance(decimal Amount) : IProjection&lt;Balance&gt;
/// {
///     public static Balance Initial =&gt; new(0m);
///     public static int SchemaVersion =&gt; 1;
///     public Balance Apply(TypedEvent e) =&gt; e.Event is MoneyDeposited d ? this with { Amount = Amount + d.Amount } : this;
///     public static void Serialize(ref MessagePackWriter writer, Balance value) =&gt; writer.Write(value.Amount.ToString(CultureInfo.InvariantCulture));
///     public static Balance Deserialize(ref MessagePackReader reader) =&gt; new(decimal.Parse(reader.ReadString()!, CultureInfo.InvariantCulture));
/// }
/// </code>
/// </example>
public interface IProjection<TSelf>
    where TSelf : IProjection<TSelf>
{
    /// <summary>The state of an entity with no events.</summary>
    static abstract TSelf Initial { get; }

    /// <summary>
    /// The version of the fold and of the serialized state. A cached state of another version is discarded and the
    /// entity refolded; change it whenever <see cref="Apply"/> or <see cref="Serialize"/> changes meaning.
    /// </summary>
    static abstract int SchemaVersion { get; }

    /// <summary>
    /// The projection's stable name: it keys the caches and names the on-disk cache folder. The default is the
    /// type's full name; override it to keep a disk cache valid across a rename of the type.
    /// </summary>
    static virtual string ProjectionName => typeof(TSelf).FullName ?? typeof(TSelf).Name;

    /// <summary>Folds one event into the state and returns the new state (this instance when the event does not matter).</summary>
    /// <param name="e">
    /// The event, decoded through the registries of the loaded assemblies: pattern-match on
    /// <see cref="TypedEvent.Event"/>; kinds no registry knows and tombstones come with <c>Event == null</c> and the raw
    /// event in <see cref="TypedEvent.Raw"/>.
    /// </param>
    TSelf Apply(TypedEvent e);

    /// <summary>Writes the state as MessagePack (any shape: one value, an array, a map).</summary>
    static abstract void Serialize(ref MessagePackWriter writer, TSelf value);

    /// <summary>Reads a state <see cref="Serialize"/> wrote under the same <see cref="SchemaVersion"/>.</summary>
    static abstract TSelf Deserialize(ref MessagePackReader reader);
}
