namespace Batpak;

/// <summary>
/// Marks a <c>partial record</c> as a Batpak event. The Batpak.Sdk source generator then emits, at compile time, its
/// MessagePack serializer, its coordinate builder and its <see cref="EventKind"/>, and registers it in the
/// assembly's event registry.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct, AllowMultiple = false, Inherited = false)]
public sealed class BatpakEventAttribute : Attribute
{
    /// <summary>The kind's category, 0x1..0xF except the reserved 0xD.</summary>
    public byte Category { get; set; }

    /// <summary>The kind's type within the category, 0x000..0xFFF.</summary>
    public ushort Type { get; set; }

    /// <summary>The schema version of the record, for documentation and diagnostics; 1 by default.</summary>
    public int Version { get; set; } = 1;
}

/// <summary>
/// Marks the one member that makes up the event's entity. The format is a composite format string whose only
/// placeholder is <c>{0}</c>, the marked member (formatted with the invariant culture), for example
/// <c>"order:{0}"</c> or <c>"order:{0:D6}"</c>. Put it on a record's positional parameter
/// (<c>[property: Entity("order:{0}")]</c> or <c>[Entity("order:{0}")]</c>) or on a property.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field | AttributeTargets.Parameter, AllowMultiple = false, Inherited = false)]
public sealed class EntityAttribute(string format) : Attribute
{
    /// <summary>The format, for example <c>"order:{0}"</c>.</summary>
    public string Format { get; } = format;
}

/// <summary>
/// Marks the one member that makes up the event's scope, for example <c>"tenant:{0}"</c>; the format rules are
/// those of <see cref="EntityAttribute"/>. Optional: without it the store's configured default scope is used.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field | AttributeTargets.Parameter, AllowMultiple = false, Inherited = false)]
public sealed class ScopeAttribute(string format) : Attribute
{
    /// <summary>The format, for example <c>"tenant:{0}"</c>.</summary>
    public string Format { get; } = format;
}
