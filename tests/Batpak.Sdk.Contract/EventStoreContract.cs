namespace Batpak.Contract;

/// <summary>
/// The behaviour every <see cref="IEventStore"/> engine must show, as xunit tests that use the public interface
/// only. An engine's test project derives one sealed runner from it and implements the hooks: where a store lives
/// (<see cref="CreateLocation"/>), how one opens (<see cref="OpenStore"/>), how events become compactable
/// (<see cref="MakeCompactable"/>), and which notions the engine lacks (<see cref="NotApplicable"/>; their tests
/// report SKIPPED). The tests are split by concern over the partial files EventStoreContract.*.cs.
/// </summary>
/// <remarks>xunit makes one instance per test and disposes it after the test: every store opened through
/// <see cref="Open"/> is disposed then, before <see cref="Dispose(bool)"/> of the runner releases its locations.</remarks>
public abstract partial class EventStoreContract : IDisposable
{
    private readonly List<IEventStore> _opened = [];

    /// <summary>Makes a new, empty place for one store (a directory, a schema, ...), released when the test ends.</summary>
    protected abstract string CreateLocation();

    /// <summary>
    /// Opens the store at <paramref name="setup"/>'s location, creating it when the location is empty, with the
    /// setup's settings. Called again with the same setup after the store was disposed, it must reopen the same
    /// store with everything it held.
    /// </summary>
    protected abstract IEventStore OpenStore(StoreSetup setup);

    /// <summary>
    /// Makes every event appended to <paramref name="store"/> before the call one that the next
    /// <see cref="IEventStore.Compact"/> applies its retention to (the embedded engine seals the active segment).
    /// It may append events of its own, to entities outside the scopes the contract uses.
    /// </summary>
    protected abstract void MakeCompactable(IEventStore store);

    /// <summary>Why <paramref name="notion"/> does not apply to this engine, or <see langword="null"/> when it does (the default).</summary>
    protected virtual string? NotApplicable(ContractNotion notion) => null;

    /// <summary>
    /// A known bug of this engine that makes the contract test named <paramref name="test"/> fail, as
    /// <c>"bug: ..."</c>, or <see langword="null"/> (the default). The test then reports SKIPPED with that reason
    /// until the engine is fixed and the override removed. Only tests that call <see cref="SkipOnKnownBug"/> ask.
    /// </summary>
    protected virtual string? KnownBug(string test) => null;

    /// <summary>A setup at a new location, with the engine defaults.</summary>
    protected StoreSetup NewSetup() => new(CreateLocation());

    /// <summary>Opens the store of <paramref name="setup"/>; it is disposed when the test ends (disposing twice is part of the contract).</summary>
    protected IEventStore Open(StoreSetup setup)
    {
        IEventStore store = OpenStore(setup);
        _opened.Add(store);
        return store;
    }

    /// <summary>Opens a new, empty store with the engine defaults.</summary>
    protected IEventStore OpenNew() => Open(NewSetup());

    /// <summary>Disposes <paramref name="store"/> and opens its location again.</summary>
    protected IEventStore Reopen(IEventStore store, StoreSetup setup)
    {
        store.Dispose();
        return Open(setup);
    }

    /// <summary>Reports the calling test SKIPPED when <paramref name="notion"/> does not apply to this engine.</summary>
    protected void RequireNotion(ContractNotion notion)
    {
        string? why = NotApplicable(notion);
        Skip.If(why is not null, $"{notion} does not apply to this engine: {why}");
    }

    /// <summary>Reports the calling test SKIPPED when the runner names a known bug of its engine for it.</summary>
    protected void SkipOnKnownBug([System.Runtime.CompilerServices.CallerMemberName] string test = "")
    {
        string? bug = KnownBug(test);
        Skip.If(bug is not null, bug);
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Disposes every store the test opened; a runner overrides it to release its locations afterwards.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (IEventStore store in _opened)
            {
                store.Dispose();
            }

            _opened.Clear();
        }
    }
}
