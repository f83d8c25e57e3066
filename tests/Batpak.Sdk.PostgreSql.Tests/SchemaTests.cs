// The schema's versioned DDL: applied idempotently (also by instances opening at once), printed for a DBA and then
// accepted by VerifyOnly, refused when missing under VerifyOnly or newer than the library; options name bad values.
using Npgsql;

namespace Batpak.PostgreSql.Tests;

public sealed class SchemaTests : IDisposable
{
    private readonly string _schema = PgServer.NewSchema();

    [SkippableFact]
    public async Task FourInstancesOpeningAnEmptySchemaAtOnce_AllOpen_AndTheMigrationIsRecordedOnce()
    {
        PgServer.Require();
        PostgresEventStore[] stores = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => PostgresEventStore.Open(TestStores.Options(_schema)))));
        try
        {
            Assert.Equal((long)PostgresEventStore.SchemaVersion, Scalar($"SELECT count(*) FROM \"{_schema}\".schema_version"));
            Assert.Equal((long)PostgresEventStore.SchemaVersion, Convert.ToInt64(Scalar($"SELECT max(version) FROM \"{_schema}\".schema_version"), System.Globalization.CultureInfo.InvariantCulture));
            stores[0].Append(TestData.Entity("s:1"), TestData.Created, TestData.Payload(1));
            Assert.Single(stores[3].Read(Region.All));
        }
        finally
        {
            foreach (PostgresEventStore store in stores)
            {
                store.Dispose();
            }
        }
    }

    [SkippableFact]
    public void VerifyOnly_OnAMissingSchema_Refuses_ThenTheDbaScriptMakesItOpen()
    {
        PgServer.Require();
        PostgresStoreOptions options = TestStores.Options(_schema);
        options.SchemaMode = PostgresSchemaMode.VerifyOnly;
        var missing = Assert.Throws<PostgresSchemaException>(() => PostgresEventStore.Open(options));
        Assert.Contains(_schema, missing.Message, StringComparison.Ordinal);
        Assert.Contains("VerifyOnly", missing.Message, StringComparison.Ordinal);
        Assert.Null(Scalar($"SELECT to_regclass('\"{_schema}\".store')::text")); // VerifyOnly created nothing

        PgServer.Execute(PostgresEventStore.MigrationScript(_schema));
        PgServer.Execute(PostgresEventStore.MigrationScript(_schema)); // idempotent
        using PostgresEventStore store = PostgresEventStore.Open(options);
        Assert.Equal(0, store.Append(TestData.Entity("s:1"), TestData.Created, TestData.Payload(1)).GlobalSequence);
    }

    [SkippableFact]
    public void ReadsNameEntitiesAndScopesFromTheirTables_AnEventWhoseScopeIdIsMissing_ThrowsPostgresSchemaException_NamingIt()
    {
        PgServer.Require();
        using (PostgresEventStore writer = PostgresEventStore.Open(TestStores.Options(_schema)))
        {
            writer.Append(new Coordinate("n:1", "first-scope"), TestData.Created, TestData.Payload(1));
            writer.Append(new Coordinate("n:2", "second-scope"), TestData.Created, TestData.Payload(2));
        }

        using (PostgresEventStore reader = PostgresEventStore.Open(TestStores.Options(_schema))) // names not cached yet
        {
            Assert.Equal([("n:1", "first-scope"), ("n:2", "second-scope")], reader.Read(Region.All).Select(e => (e.Coordinate.Entity, e.Coordinate.Scope)));
            Assert.Equal("second-scope", Assert.Single(reader.Read(Region.ForScope("second-scope"))).Coordinate.Scope);
        }

        PgServer.Execute($"UPDATE \"{_schema}\".events SET scope_id = 9999 WHERE global_seq = 1");
        using PostgresEventStore damaged = PostgresEventStore.Open(TestStores.Options(_schema));
        var ex = Assert.Throws<PostgresSchemaException>(() => damaged.Read(Region.All).ToList());
        Assert.Contains("scope id 9999", ex.Message, StringComparison.Ordinal);
        Assert.Contains("event 1", ex.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void ASchemaNewerThanTheLibrary_IsRefusedNamingBothVersions()
    {
        PgServer.Require();
        PostgresEventStore.Open(TestStores.Options(_schema)).Dispose();
        PgServer.Execute($"INSERT INTO \"{_schema}\".schema_version (version, description) VALUES (999, 'from the future')");
        var ex = Assert.Throws<PostgresSchemaException>(() => PostgresEventStore.Open(TestStores.Options(_schema)));
        Assert.Contains("999", ex.Message, StringComparison.Ordinal);
        Assert.Contains(PostgresEventStore.SchemaVersion.ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void AStoreCreatedWithAChainKey_RefusesToOpenWithoutIt()
    {
        PgServer.Require();
        byte[] key = [.. Enumerable.Range(0, 32).Select(i => (byte)i)];
        using (PostgresEventStore keyed = PostgresEventStore.Open(TestStores.Options(_schema), new BatpakOptions { ChainKey = key }))
        {
            keyed.Append(TestData.Entity("s:1"), TestData.Created, TestData.Payload(1));
        }

        Assert.Throws<ChainKeyMismatchException>(() => PostgresEventStore.Open(TestStores.Options(_schema)));
        using PostgresEventStore again = PostgresEventStore.Open(TestStores.Options(_schema), new BatpakOptions { ChainKey = key });
        Assert.Single(again.Read(Region.All));
    }

    [Theory]
    [InlineData("", "Schema")]
    [InlineData("1abc", "1abc")]
    [InlineData("pg_mine", "pg_mine")]
    [InlineData("has-dash", "has-dash")]
    public void Options_WithABadSchemaName_AreRefusedNamingTheSettingAndValue(string schema, string named)
    {
        var options = new PostgresStoreOptions { ConnectionString = "Host=localhost", Schema = schema };
        var ex = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains("PostgresStoreOptions.Schema", ex.Message, StringComparison.Ordinal);
        Assert.Contains(named, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_WithoutAConnectionStringOrWithABadPollInterval_AreRefusedNamingTheSetting()
    {
        Assert.Contains("ConnectionString", Assert.Throws<ArgumentException>(new PostgresStoreOptions().Validate).Message, StringComparison.Ordinal);
        var poll = new PostgresStoreOptions { ConnectionString = "Host=localhost", PollInterval = TimeSpan.Zero };
        Assert.Contains("PollInterval 00:00:00", Assert.Throws<ArgumentException>(poll.Validate).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ConnectionSettings_TurnOnAutoPrepareKeepalivesAndNoReset_UnlessTheConnectionStringSetsThem_AndSizeBothPools()
    {
        var defaults = Engine.PostgresEngine.ConnectionSettings(new PostgresStoreOptions { ConnectionString = "Host=db", MaxReadConnections = 6 });
        Assert.Equal(64, defaults.MaxAutoPrepare);
        Assert.Equal(2, defaults.AutoPrepareMinUsages);
        Assert.Equal(10, defaults.KeepAlive);
        Assert.Equal(6, defaults.MaxPoolSize); // readers only: sessions have their own pool
        Assert.True(defaults.NoResetOnClose);
        var sessions = Engine.PostgresEngine.SessionSettings(new PostgresStoreOptions { ConnectionString = "Host=db;No Reset On Close=true", MaxReadConnections = 6 });
        Assert.Equal(Engine.PostgresEngine.SessionConnections, sessions.MaxPoolSize);
        Assert.False(sessions.NoResetOnClose); // the writer's SETs and the listener's LISTEN never reach a reader
        Assert.Equal(64, sessions.MaxAutoPrepare);
        var explicitly = Engine.PostgresEngine.ConnectionSettings(new PostgresStoreOptions { ConnectionString = "Host=db;Max Auto Prepare=0;Keepalive=0;No Reset On Close=false" });
        Assert.Equal(0, explicitly.MaxAutoPrepare);
        Assert.Equal(0, explicitly.KeepAlive);
        Assert.False(explicitly.NoResetOnClose);
    }

    [Fact]
    public void MigrationScript_IsOneTransaction_ForTheNamedSchema_AndRecordsItsVersion()
    {
        string script = PostgresEventStore.MigrationScript("shop");
        Assert.StartsWith("BEGIN;", script, StringComparison.Ordinal);
        Assert.EndsWith("COMMIT;\n", script, StringComparison.Ordinal);
        Assert.Contains("CREATE TABLE IF NOT EXISTS \"shop\".events", script, StringComparison.Ordinal);
        Assert.DoesNotContain("__SCHEMA__", script, StringComparison.Ordinal);
        Assert.Contains("INSERT INTO \"shop\".schema_version", script, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => PostgresEventStore.MigrationScript("bad name"));
        Assert.Throws<ArgumentOutOfRangeException>(() => PostgresEventStore.MigrationScript("shop", PostgresEventStore.SchemaVersion + 1));
    }

    private static object? Scalar(string sql)
    {
        using var connection = new NpgsqlConnection(PgServer.ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        object? value = command.ExecuteScalar();
        return value is DBNull ? null : value;
    }

    public void Dispose() => TestStores.DropSchema(_schema);
}
