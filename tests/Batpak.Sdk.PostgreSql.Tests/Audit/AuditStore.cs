// A store for the verification, compaction and snapshot tests: a fresh schema on the test server, a fixed seed of
// events whose rows the tests then change by SQL as an attacker with database access would, and the schema dropped
// at the end. Used by the tests in Audit/ only.
using System.Text;
using Npgsql;

namespace Batpak.PostgreSql.Tests.Audit;

/// <summary>One store in its own schema, and SQL against that schema (<c>{s}</c> in a statement is the quoted schema).</summary>
public sealed class AuditStore : IDisposable
{
    public static readonly EventKind Created = EventKind.Create(0x1, 0x001);
    public static readonly EventKind Updated = EventKind.Create(0x1, 0x002);
    public static readonly Coordinate Alice = new("acct:alice", "bank");
    public static readonly Coordinate Bob = new("acct:bob", "bank");
    public static readonly Coordinate BobElsewhere = new("acct:bob", "other-bank");
    public static readonly Coordinate Carol = new("acct:carol", "bank");

    /// <summary>The chain key of keyed test stores (32 bytes).</summary>
    public static readonly byte[] Key = Encoding.ASCII.GetBytes("batpak pg audit test chain key!!");

    private readonly List<string> _schemas = [];

    private AuditStore(string schema, bool keyed)
    {
        Schema = schema;
        Keyed = keyed;
        _schemas.Add(schema);
        Store = OpenAt(schema);
    }

    /// <summary>The store's schema.</summary>
    public string Schema { get; }

    /// <summary>Whether the store's chains are keyed (HMAC-SHA256).</summary>
    public bool Keyed { get; }

    /// <summary>The open store.</summary>
    public PostgresEventStore Store { get; private set; }

    /// <summary>Opens a store in a new schema (requires the test server: fails under CI, skips elsewhere without it).</summary>
    public static AuditStore Open(bool keyed = false)
    {
        PgServer.Require();
        return new AuditStore(PgServer.NewSchema(), keyed);
    }

    public static byte[] Payload(int n) => Encoding.UTF8.GetBytes($"payload-{n}");

    /// <summary>
    /// Ten events, returned in global order: alice (0, 2, 4, 6, 8), bob (1, 3, 5, 9; 3 in another scope, 1 with an
    /// idempotency key), carol (7). Event 4 is a reaction to 0 (causation, correlation, depth 1) and event 6 carries
    /// a flag, so every hashed column holds a value worth changing.
    /// </summary>
    public List<AppendReceipt> Seed()
    {
        var r = new List<AppendReceipt>
        {
            Store.Append(Alice, Created, Payload(0)),
            Store.Append(Bob, Created, Payload(1), new AppendOptions { IdempotencyKey = "bob-1" }),
            Store.Append(Alice, Updated, Payload(2)),
            Store.Append(BobElsewhere, Updated, Payload(3)),
        };
        r.Add(Store.AppendReaction(r[0].EventId, Alice, Updated, Payload(4)));
        r.Add(Store.Append(Bob, Created, Payload(5)));
        r.Add(Store.Append(Alice, Created, Payload(6), new AppendOptions { Flags = EventFlags.RequiresAck }));
        r.Add(Store.Append(Carol, Created, Payload(7)));
        r.Add(Store.Append(Alice, Updated, Payload(8)));
        r.Add(Store.Append(Bob, Updated, Payload(9)));
        return r;
    }

    /// <summary>Runs <paramref name="sql"/> with <c>{s}</c> replaced by the quoted schema; returns the rows changed.</summary>
    public int Sql(string sql)
    {
        using var connection = new NpgsqlConnection(PgServer.ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql.Replace("{s}", $"\"{Schema}\"", StringComparison.Ordinal), connection);
        return command.ExecuteNonQuery();
    }

    /// <summary>The first column of the first row of <paramref name="sql"/> (<c>{s}</c> as in <see cref="Sql"/>).</summary>
    public T Scalar<T>(string sql)
    {
        using var connection = new NpgsqlConnection(PgServer.ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql.Replace("{s}", $"\"{Schema}\"", StringComparison.Ordinal), connection);
        return (T)command.ExecuteScalar()!;
    }

    /// <summary>A schema name for a snapshot target, dropped with this store.</summary>
    public string NewTargetSchema()
    {
        string schema = PgServer.NewSchema();
        _schemas.Add(schema);
        return schema;
    }

    /// <summary>Opens (a second instance of) the store in <paramref name="schema"/> with this store's key setting.</summary>
    public PostgresEventStore OpenAt(string schema) =>
        PostgresEventStore.Open(TestStores.Options(schema), new BatpakOptions { ChainKey = Keyed ? Key : null });

    /// <summary>Closes and reopens the store (a new instance, nothing cached).</summary>
    public void Reopen()
    {
        Store.Dispose();
        Store = OpenAt(Schema);
    }

    public void Dispose()
    {
        Store.Dispose();
        foreach (string schema in _schemas)
        {
            TestStores.DropSchema(schema);
        }
    }
}
