using System.ComponentModel;
using MessagePack;

namespace Batpak;

/// <summary>
/// The contract the source generator implements for every <see cref="BatpakEventAttribute"/> record: the kind, a
/// reflection-free MessagePack serializer and the coordinate builder. Used through static dispatch
/// (<c>where TEvent : IBatpakEvent&lt;TEvent&gt;</c>): no resolver lookup, no boxing.
/// </summary>
/// <typeparam name="TSelf">The event record itself.</typeparam>
public interface IBatpakEvent<TSelf>
    where TSelf : IBatpakEvent<TSelf>
{
    /// <summary>The event's kind.</summary>
    static abstract EventKind Kind { get; }

    /// <summary>Writes the event's members as a MessagePack array. Generated.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    static abstract void Serialize(ref MessagePackWriter writer, TSelf value);

    /// <summary>Reads an event written by <see cref="Serialize"/> (or an older schema of it). Generated.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    static abstract TSelf Deserialize(ref MessagePackReader reader);

    /// <summary>Builds the event's coordinate from its <see cref="EntityAttribute"/> and <see cref="ScopeAttribute"/> members. Generated.</summary>
    /// <param name="defaultScope">The scope used when the record has no <see cref="ScopeAttribute"/> member.</param>
    Coordinate GetCoordinate(string defaultScope);
}
