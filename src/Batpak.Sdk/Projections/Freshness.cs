namespace Batpak;

/// <summary>
/// How current a projected state must be: <see cref="Consistent"/> (reflects every event acknowledged before the
/// call) or <see cref="MaybeStale"/> (a cached state folded at most <see cref="MaxAge"/> ago is good enough).
/// </summary>
/// <remarks>
/// <c>default(Freshness)</c> is <see cref="Consistent"/>; <c>MaybeStale(TimeSpan.Zero)</c> is the same thing.
/// The age of a cached state is the time since it was folded (its <see cref="CachedProjection{TState}.RefreshedAt"/>),
/// measured with the engine's <see cref="TimeProvider"/>.
/// </remarks>
public readonly record struct Freshness
{
    private Freshness(TimeSpan maxAge) => MaxAge = maxAge;

    /// <summary>The state reflects every event of the entity acknowledged before the call (and possibly later ones).</summary>
    public static Freshness Consistent => default;

    /// <summary>The oldest cached state accepted without looking for newer events; <see cref="TimeSpan.Zero"/> for <see cref="Consistent"/>.</summary>
    public TimeSpan MaxAge { get; }

    /// <summary><see langword="true"/> when the state must reflect every acknowledged event.</summary>
    public bool IsConsistent => MaxAge <= TimeSpan.Zero;

    /// <summary>
    /// Accepts a cached state folded no more than <paramref name="maxAge"/> ago, even if the entity has newer events;
    /// an older (or missing) cached state is brought up to date as with <see cref="Consistent"/>.
    /// </summary>
    /// <param name="maxAge">Zero or more; <see cref="TimeSpan.MaxValue"/> accepts any cached state.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxAge"/> is negative.</exception>
    public static Freshness MaybeStale(TimeSpan maxAge)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxAge, TimeSpan.Zero);
        return new Freshness(maxAge);
    }

    /// <summary>Returns <c>Consistent</c> or <c>MaybeStale(maxAge)</c>.</summary>
    public override string ToString() => IsConsistent ? "Consistent" : $"MaybeStale({MaxAge})";
}
