namespace Batpak;

/// <summary>How a <see cref="Region"/> filters event kinds.</summary>
public enum KindFilterMode
{
    /// <summary>Every kind matches.</summary>
    Any = 0,

    /// <summary>Only one exact kind matches.</summary>
    Exact = 1,

    /// <summary>Every kind of one category matches.</summary>
    Category = 2,
}

/// <summary>A filter on event kinds: any, one exact kind, or one category.</summary>
public readonly record struct KindFilter
{
    private KindFilter(KindFilterMode mode, ushort value)
    {
        Mode = mode;
        Value = value;
    }

    /// <summary>How the filter matches.</summary>
    public KindFilterMode Mode { get; }

    /// <summary>The raw kind (for <see cref="KindFilterMode.Exact"/>) or category (for <see cref="KindFilterMode.Category"/>).</summary>
    public ushort Value { get; }

    /// <summary>Matches every kind.</summary>
    public static KindFilter Any => default;

    /// <summary>Matches one exact kind.</summary>
    public static KindFilter Exact(EventKind kind) => new(KindFilterMode.Exact, kind.Value);

    /// <summary>Matches every kind in <paramref name="category"/> (0x0..0xF).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="category"/> is above 0xF.</exception>
    public static KindFilter Category(byte category)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(category, EventKind.MaxCategory);
        return new(KindFilterMode.Category, category);
    }

    /// <summary><see langword="true"/> when <paramref name="kind"/> passes the filter.</summary>
    public bool Matches(EventKind kind) => Mode switch
    {
        KindFilterMode.Exact => kind.Value == Value,
        KindFilterMode.Category => kind.Category == Value,
        _ => true,
    };
}

/// <summary>
/// The one query predicate of the store, used by queries, subscriptions and cursors: an exact entity or an entity
/// prefix, a scope, a kind filter, and global-sequence and timestamp ranges. Every part left unset matches everything.
/// Immutable; build one with the static factories and the <c>With*</c> methods.
/// </summary>
public sealed record Region
{
    /// <summary>Matches every event.</summary>
    public static Region All { get; } = new();

    /// <summary>An exact entity, or <see langword="null"/> for any.</summary>
    public string? Entity { get; private init; }

    /// <summary>An entity prefix (ordinal), or <see langword="null"/> for any.</summary>
    public string? EntityPrefix { get; private init; }

    /// <summary>An exact scope, or <see langword="null"/> for any.</summary>
    public string? Scope { get; private init; }

    /// <summary>The kind filter.</summary>
    public KindFilter Kinds { get; private init; }

    /// <summary>The smallest global sequence included.</summary>
    public long FromGlobalSequence { get; private init; }

    /// <summary>The largest global sequence included.</summary>
    public long ToGlobalSequence { get; private init; } = long.MaxValue;

    /// <summary>The earliest timestamp included, in Unix microseconds.</summary>
    public long FromTimestampMicroseconds { get; private init; } = long.MinValue;

    /// <summary>The latest timestamp included, in Unix microseconds.</summary>
    public long ToTimestampMicroseconds { get; private init; } = long.MaxValue;

    /// <summary>Events of one entity.</summary>
    public static Region ForEntity(string entity) => All.WithEntity(entity);

    /// <summary>Events whose entity starts with <paramref name="prefix"/> (ordinal).</summary>
    public static Region ForEntityPrefix(string prefix) => All.WithEntityPrefix(prefix);

    /// <summary>Events of one scope.</summary>
    public static Region ForScope(string scope) => All.WithScope(scope);

    /// <summary>Events of one exact kind.</summary>
    public static Region ForKind(EventKind kind) => All.WithKinds(KindFilter.Exact(kind));

    /// <summary>Events of one category.</summary>
    public static Region ForCategory(byte category) => All.WithKinds(KindFilter.Category(category));

    /// <summary>Restricts to one exact entity (clears any prefix).</summary>
    /// <exception cref="ArgumentException"><paramref name="entity"/> is not a valid coordinate part.</exception>
    public Region WithEntity(string entity)
    {
        Coordinate.Validate(entity, nameof(entity));
        return this with { Entity = entity, EntityPrefix = null };
    }

    /// <summary>Restricts to entities starting with <paramref name="prefix"/> (clears any exact entity).</summary>
    /// <exception cref="ArgumentException"><paramref name="prefix"/> is not a valid coordinate part.</exception>
    public Region WithEntityPrefix(string prefix)
    {
        Coordinate.Validate(prefix, nameof(prefix));
        return this with { EntityPrefix = prefix, Entity = null };
    }

    /// <summary>Restricts to one scope.</summary>
    /// <exception cref="ArgumentException"><paramref name="scope"/> is not a valid coordinate part.</exception>
    public Region WithScope(string scope)
    {
        Coordinate.Validate(scope, nameof(scope));
        return this with { Scope = scope };
    }

    /// <summary>Restricts the kinds.</summary>
    public Region WithKinds(KindFilter kinds) => this with { Kinds = kinds };

    /// <summary>Restricts the global sequence to <c>[from, to]</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="from"/> is negative or above <paramref name="to"/>.</exception>
    public Region WithGlobalSequence(long from, long to = long.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(from);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(from, to);
        return this with { FromGlobalSequence = from, ToGlobalSequence = to };
    }

    /// <summary>Restricts the timestamp to <c>[from, to]</c> (inclusive).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="from"/> is after <paramref name="to"/>.</exception>
    public Region WithTimestamps(DateTimeOffset from, DateTimeOffset to)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(from, to);
        return this with
        {
            FromTimestampMicroseconds = (from - DateTimeOffset.UnixEpoch).Ticks / 10,
            ToTimestampMicroseconds = (to - DateTimeOffset.UnixEpoch).Ticks / 10,
        };
    }

    /// <summary><see langword="true"/> when an event with these attributes is inside the region.</summary>
    /// <exception cref="ArgumentException"><paramref name="coordinate"/> is <c>default</c>.</exception>
    public bool Matches(in Coordinate coordinate, EventKind kind, long globalSequence, long timestampMicroseconds)
    {
        coordinate.EnsureValid(nameof(coordinate));
        return Matches(coordinate.Entity, coordinate.Scope, kind, globalSequence, timestampMicroseconds);
    }

    internal bool Matches(string entity, string scope, EventKind kind, long globalSequence, long timestampMicroseconds) =>
        (Entity is null || string.Equals(Entity, entity, StringComparison.Ordinal))
        && (EntityPrefix is null || entity.StartsWith(EntityPrefix, StringComparison.Ordinal))
        && (Scope is null || string.Equals(Scope, scope, StringComparison.Ordinal))
        && Kinds.Matches(kind)
        && globalSequence >= FromGlobalSequence && globalSequence <= ToGlobalSequence
        && timestampMicroseconds >= FromTimestampMicroseconds && timestampMicroseconds <= ToTimestampMicroseconds;
}
