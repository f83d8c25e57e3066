using Batpak.Contract;

namespace Batpak.Tests.Contract;

/// <summary>
/// Runs the engine contract (<see cref="EventStoreContract"/>) against the embedded <see cref="EventStore"/>: each
/// store in a temporary directory, with 4 KiB segments so that the tests also cross segment rotations; compaction
/// applies to events once the segment holding them is sealed.
/// </summary>
public sealed class EmbeddedEventStoreContractTests : EventStoreContract
{
    private static readonly Coordinate s_filler = new("contract-seal:filler", "contract-seal");
    private readonly List<TempDirectory> _directories = [];

    protected override string CreateLocation()
    {
        var directory = new TempDirectory();
        _directories.Add(directory);
        return directory.Path;
    }

    protected override IEventStore OpenStore(StoreSetup setup)
    {
        var options = new BatpakOptions { DataDirectory = setup.Location, SegmentMaxBytes = 4096 };
        if (setup.DefaultScope is { } scope)
        {
            options.DefaultScope = scope;
        }

        if (setup.MaxEventBytes is { } maxEventBytes)
        {
            options.MaxEventBytes = maxEventBytes;
        }

        options.GatedKinds.UnionWith(setup.GatedKinds);
        return new EventStore(options);
    }

    /// <summary>Seals the active segment: appends filler events until one lands in a new segment.</summary>
    protected override void MakeCompactable(IEventStore store)
    {
        int active = store.Append(s_filler, TestEvents.Audit, new byte[512]).Position.SegmentId;
        while (store.Append(s_filler, TestEvents.Audit, new byte[512]).Position.SegmentId == active)
        {
        }
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            foreach (TempDirectory directory in _directories)
            {
                directory.Dispose();
            }
        }
    }
}
