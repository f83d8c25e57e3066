// Runs the engine contract against PostgresEventStore: each location a fresh schema c_<guid>, dropped when the test
// ends. Requires the test server (PgServer.Require): without one the tests fail under CI and are skipped elsewhere.
using Batpak.Contract;

namespace Batpak.PostgreSql.Tests;

/// <summary>The engine contract (<see cref="EventStoreContract"/>) on a real PostgreSQL server.</summary>
public sealed class PostgresEventStoreContractTests : EventStoreContract
{
    private readonly List<string> _schemas = [];

    protected override string CreateLocation()
    {
        PgServer.Require();
        string schema = PgServer.NewSchema();
        _schemas.Add(schema);
        return schema;
    }

    protected override IEventStore OpenStore(StoreSetup setup)
    {
        var options = new BatpakOptions();
        if (setup.DefaultScope is { } scope)
        {
            options.DefaultScope = scope;
        }

        if (setup.MaxEventBytes is { } maxEventBytes)
        {
            options.MaxEventBytes = maxEventBytes;
        }

        options.GatedKinds.UnionWith(setup.GatedKinds);
        return PostgresEventStore.Open(TestStores.Options(setup.Location), options);
    }

    /// <summary>Every committed event is compactable in PostgreSQL: nothing to do.</summary>
    protected override void MakeCompactable(IEventStore store)
    {
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            foreach (string schema in _schemas)
            {
                TestStores.DropSchema(schema);
            }
        }
    }
}
