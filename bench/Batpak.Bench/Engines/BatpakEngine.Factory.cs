namespace Batpak.Bench.Engines;

// The only file that names the concrete EventStore. Batpak.Bench.csproj defines BATPAK_ENGINE when
// src/Batpak.Sdk/Store/EventStore.cs exists, so the adapter switches itself on once the engine is merged.
// Without it the Batpak column reports "engine not in this build" instead of numbers.
internal sealed partial class BatpakEngine
{
#if BATPAK_ENGINE
    private static partial Func<BatpakOptions, IEventStore>? CreateStoreImpl => static options => new EventStore(options);
#else
    private static partial Func<BatpakOptions, IEventStore>? CreateStoreImpl => null;
#endif
}
