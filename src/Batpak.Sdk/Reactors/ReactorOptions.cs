namespace Batpak;

/// <summary>What a <see cref="ReactorRunner"/> does with an event its reactor failed on <see cref="ReactorOptions.MaxAttempts"/> times.</summary>
public enum PoisonEventPolicy
{
    /// <summary>
    /// Stop the runner (the default): its cursor stays at the failed event, so the next start retries it. Nothing is
    /// lost; the reactor makes no progress until the cause is fixed.
    /// </summary>
    StopReactor = 0,

    /// <summary>Report the event as given up, commit past it and go on with the next one: the event never gets its reactions.</summary>
    SkipEvent = 1,
}

/// <summary>What a <see cref="ReactorRunner"/> decided after a failed attempt.</summary>
public enum ReactorFailureAction
{
    /// <summary>The event is retried after a backoff.</summary>
    Retry = 0,

    /// <summary>Attempts are exhausted; the event is skipped (<see cref="PoisonEventPolicy.SkipEvent"/>).</summary>
    Skip = 1,

    /// <summary>Attempts are exhausted; the runner stops (<see cref="PoisonEventPolicy.StopReactor"/>).</summary>
    Stop = 2,
}

/// <summary>A failed attempt of a reactor on one event, as reported to <see cref="ReactorOptions.OnFailure"/>.</summary>
/// <param name="ReactorName">The reactor.</param>
/// <param name="Source">The event it failed on.</param>
/// <param name="Attempt">The attempt that failed, from 1.</param>
/// <param name="Exception">What the reactor (or the append of its reactions) threw.</param>
/// <param name="Action">What happens next.</param>
public sealed record ReactorFailure(string ReactorName, StoredEvent Source, int Attempt, Exception Exception, ReactorFailureAction Action);

/// <summary>Settings of a <see cref="ReactorRunner"/>.</summary>
public sealed record ReactorOptions
{
    /// <summary>Attempts per event before the <see cref="PoisonEventPolicy"/> applies. Default 5.</summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>The wait after the first failed attempt; it doubles after each further one, up to <see cref="MaxBackoff"/>. Default 100 ms.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest wait between attempts. Default 10 s.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>What happens to an event that failed <see cref="MaxAttempts"/> times. Default <see cref="PoisonEventPolicy.StopReactor"/>.</summary>
    public PoisonEventPolicy PoisonEventPolicy { get; init; } = PoisonEventPolicy.StopReactor;

    /// <summary>
    /// The most events read per poll. The cursor is committed once per batch (after an fsync of the reactions), so a
    /// crash repeats at most one batch of offers (whose appends the idempotency keys de-duplicate). Default 256.
    /// </summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>
    /// Called for every failed attempt, on the runner's task (exceptions it throws are ignored). Log from here;
    /// <see langword="null"/> reports nothing (the counters still count).
    /// </summary>
    public Action<ReactorFailure>? OnFailure { get; init; }

    /// <summary>The clock of the backoff waits; <see cref="TimeProvider.System"/> by default.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxAttempts, 1, nameof(MaxAttempts));
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchSize, 1, nameof(BatchSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(InitialBackoff, TimeSpan.Zero, nameof(InitialBackoff));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBackoff, InitialBackoff, nameof(MaxBackoff));
        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
        if (!Enum.IsDefined(PoisonEventPolicy))
        {
            throw new ArgumentOutOfRangeException(nameof(PoisonEventPolicy), PoisonEventPolicy, "StopReactor or SkipEvent.");
        }
    }
}
