// GetHead of the PostgreSQL engine: the store row's global-chain fold state plus the hashes of the open block
// (fewer than 1,024, from events and dropped), read in one REPEATABLE READ snapshot. Called by PostgresEngine.GetHead
// only.
using Batpak.PostgreSql.Engine;
using Batpak.Storage;
using Npgsql;

namespace Batpak.PostgreSql.Audit;

/// <summary>Reads the head digest (<see cref="StoreHead"/>) as of one snapshot.</summary>
internal static class PgHeadReader
{
    /// <summary>
    /// The head now: <c>next_global</c> and the digest of the global chain over every event below it. Compaction
    /// never changes it (a dropped event's hash stays in <c>dropped</c>, a tombstone keeps its hash). Throws
    /// <see cref="PostgresSchemaException"/> when the open block has a hole (the tables were damaged).
    /// </summary>
    public static StoreHead Read(PostgresEngine engine)
    {
        string q = engine.Q;
        using NpgsqlConnection connection = engine.DataSource.OpenConnection();
        using NpgsqlTransaction transaction = AuditRows.BeginSnapshot(connection);
        long next, folded;
        EventHash digest;
        using (var store = new NpgsqlCommand($"SELECT next_global, chain_folded, chain_digest FROM {q}.store WHERE id = 1", connection, transaction))
        using (NpgsqlDataReader reader = store.ExecuteReader())
        {
            if (!reader.Read())
            {
                throw new PostgresSchemaException(engine.StoreSchema, $"Schema \"{engine.StoreSchema}\" has no store row (table store, id 1).");
            }

            next = reader.GetInt64(0);
            folded = reader.GetInt64(1);
            byte[] bytes = reader.GetFieldValue<byte[]>(2);
            if (bytes.Length != EventHash.Size || folded < 0 || folded > next || next - folded >= GlobalChain.BlockSize || folded % GlobalChain.BlockSize != 0)
            {
                throw new PostgresSchemaException(engine.StoreSchema, $"Schema \"{engine.StoreSchema}\": the store row's chain fold state (chain_folded {folded}, a {bytes.Length}-byte digest, next_global {next}) is not one the engine writes; the row was damaged.");
            }

            digest = EventHash.FromBytes(bytes);
        }

        var open = new List<EventHash>((int)(next - folded));
        using (var hashes = new NpgsqlCommand(
            $"SELECT global_seq, hash FROM {q}.events WHERE global_seq >= $1 AND global_seq < $2 UNION ALL SELECT global_seq, hash FROM {q}.dropped WHERE global_seq >= $1 AND global_seq < $2 ORDER BY 1",
            connection,
            transaction))
        {
            hashes.Parameters.Add(new NpgsqlParameter<long> { TypedValue = folded });
            hashes.Parameters.Add(new NpgsqlParameter<long> { TypedValue = next });
            using NpgsqlDataReader reader = hashes.ExecuteReader();
            while (reader.Read())
            {
                long sequence = reader.GetInt64(0);
                byte[] hash = reader.GetFieldValue<byte[]>(1);
                if (sequence != folded + open.Count || hash.Length != EventHash.Size)
                {
                    throw new PostgresSchemaException(engine.StoreSchema, $"Schema \"{engine.StoreSchema}\": global sequence {folded + open.Count} is missing, doubled or has a malformed hash in the open block of the global chain; the tables were damaged (VerifyAll says where).");
                }

                open.Add(EventHash.FromBytes(hash));
            }
        }

        if (open.Count != next - folded)
        {
            throw new PostgresSchemaException(engine.StoreSchema, $"Schema \"{engine.StoreSchema}\": global sequence {folded + open.Count} is in neither events nor dropped, below next_global {next}; the tables were damaged (VerifyAll says where).");
        }

        transaction.Commit();
        using GlobalChain chain = GlobalChain.Resume(engine.ChainKey, folded, digest, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(open));
        return new StoreHead(next, chain.Head());
    }
}
