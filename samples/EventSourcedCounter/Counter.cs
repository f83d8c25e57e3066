using Batpak;

namespace EventSourcedCounter;

/// <summary>The counter's state, rebuilt by folding its events in order (a hand-written projection).</summary>
public sealed record Counter(string Id, int Value, long Version)
{
    public static Counter Empty(string id) => new(id, 0, 0);

    /// <summary>One step of the fold: the state after <paramref name="evt"/>.</summary>
    public Counter Apply(object? evt) => evt switch
    {
        CounterIncremented e => this with { Value = Value + e.By, Version = Version + 1 },
        CounterDecremented e => this with { Value = Value - e.By, Version = Version + 1 },
        CounterReset => this with { Value = 0, Version = Version + 1 },
        _ => this with { Version = Version + 1 }, // a kind this version of the app does not know: skip it
    };

    /// <summary>Reads the counter's stream and folds every event.</summary>
    public static Counter Load(IEventStore store, string id)
    {
        Counter state = Empty(id);
        foreach (TypedEvent e in store.StreamTyped("counter:" + id))
        {
            state = state.Apply(e.Event);
        }

        return state;
    }
}
