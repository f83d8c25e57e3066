// VerifyAll of the PostgreSQL engine: the whole log (events and dropped, merged in global order by the server and
// streamed row by row, never held in memory) read in one REPEATABLE READ read-only snapshot; every entity chain and
// the global chain recomputed, then compared with the store row (count, fold state), the entities rows and the
// anchor. Called by PostgresEngine.VerifyAll only.
using Batpak.PostgreSql.Engine;
using Batpak.Storage;
using Npgsql;

namespace Batpak.PostgreSql.Audit;

/// <summary>Recomputes every chain in global order, and checks the log against an anchor when given.</summary>
/// <remarks>
/// Memory is one row plus one <see cref="EntityChain"/> per entity (the embedded engine keeps the same per-entity
/// state). The snapshot holds back vacuum of rows changed while it runs, so a huge store's VerifyAll is best run
/// when few appends happen; it never blocks appends or compaction.
/// </remarks>
internal static class PgLogVerifier
{
    /// <summary>See <see cref="IEventStore.VerifyAll(StoreHead)"/>; the same checks and outcomes as the embedded engine's.</summary>
    public static ChainVerification VerifyAll(PostgresEngine engine, StoreHead? anchor)
    {
        string q = engine.Q;
        using NpgsqlConnection connection = engine.DataSource.OpenConnection();
        using NpgsqlTransaction transaction = AuditRows.BeginSnapshot(connection);
        (long next, long folded, byte[] digest, long eventCount, long entityCount) = ReadStoreRow(connection, transaction, q);
        Dictionary<long, EntityChain> entities = ReadEntities(connection, transaction, q);
        using var checks = new ChainChecks(engine.ChainKey, AuditRows.Scopes(connection, transaction, q));
        using var chain = new GlobalChain(engine.ChainKey);
        EventHash? atAnchor = anchor is { NextGlobalSequence: 0 } ? chain.Head() : null;
        long checkedCount = 0;
        string? failure = null;
        using (var rows = new NpgsqlCommand(AuditRows.Sql(q, string.Empty, string.Empty, byEntitySequence: false), connection, transaction))
        using (NpgsqlDataReader reader = rows.ExecuteReader())
        {
            while (failure is null && reader.Read())
            {
                AuditRow row = AuditRows.Read(reader);
                if (row.GlobalSequence != chain.Next)
                {
                    failure = row.GlobalSequence < chain.Next
                        ? $"global sequence {row.GlobalSequence} appears twice (again as {row.Describe(null)})"
                        : $"global sequence {row.GlobalSequence} follows {chain.Next - 1} ({row.Describe(null)}): events {chain.Next}..{row.GlobalSequence - 1} are missing and no drop accounts for them";
                    break;
                }

                if (!entities.TryGetValue(row.EntityId, out EntityChain? entity))
                {
                    failure = $"{row.Describe(null)}: its entity id {row.EntityId} is not in the entities table";
                    break;
                }

                failure = checks.Check(row, entity, out EventHash hash);
                if (failure is not null)
                {
                    break;
                }

                checkedCount += row.IsDropped ? 0 : 1;
                chain.Add(hash);
                if (anchor is { } a && chain.Next == a.NextGlobalSequence)
                {
                    atAnchor = chain.Head();
                }
            }
        }

        failure ??= CompareWithStore(chain, next, folded, digest, eventCount, checkedCount, entityCount, entities);
        if (failure is null && anchor is { } given)
        {
            if (given.NextGlobalSequence > next)
            {
                failure = $"the anchor covers {given.NextGlobalSequence} events but the store holds {next}: the end of the log is gone (or the anchor is from another store)";
            }
            else if (atAnchor != given.Digest)
            {
                failure = $"the first {given.NextGlobalSequence} events do not give the anchor's digest: the log before the anchor was altered (or the anchor is from another store)";
            }
        }

        transaction.Commit();
        return new ChainVerification(failure is null, checkedCount, failure);
    }

    /// <summary>Why the walked log disagrees with what the store row and the entities rows claim, or <see langword="null"/>.</summary>
    private static string? CompareWithStore(GlobalChain chain, long next, long folded, byte[] digest, long eventCount, long liveCount, long entityCount, Dictionary<long, EntityChain> entities)
    {
        if (chain.Next != next)
        {
            return $"the tables hold {chain.Next} events (kept and dropped); the store row's next_global is {next}: events {Math.Min(chain.Next, next)}..{Math.Max(chain.Next, next) - 1} are {(chain.Next < next ? "missing" : "not counted by the store row")}";
        }

        if (chain.Folded != folded || digest.Length != EventHash.Size || EventHash.FromBytes(digest) != chain.Blocks)
        {
            return $"the store row's global-chain fold state (chain_folded {folded}) does not match the chain recomputed from the tables (folded {chain.Folded}, digest {chain.Blocks}): an event was altered, removed or reordered, or the row was changed";
        }

        if (liveCount != eventCount)
        {
            return $"the events table holds {liveCount} events; the store row's event_count is {eventCount}";
        }

        long withEvents = 0;
        foreach (EntityChain entity in entities.Values)
        {
            if (entity.Next == 0)
            {
                return $"entity \"{entity.Name}\" has an entities row (last sequence {entity.StoredLastSequence}) but no stored event";
            }

            withEvents++;
            if (entity.EndProblem() is { } problem)
            {
                return problem;
            }
        }

        return withEvents == entityCount ? null : $"the log holds {withEvents} entities; the store row's entity_count is {entityCount}";
    }

    private static (long Next, long Folded, byte[] Digest, long EventCount, long EntityCount) ReadStoreRow(NpgsqlConnection connection, NpgsqlTransaction transaction, string q)
    {
        using var command = new NpgsqlCommand($"SELECT next_global, chain_folded, chain_digest, event_count, entity_count FROM {q}.store WHERE id = 1", connection, transaction);
        using NpgsqlDataReader reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return (0, -1, [], 0, 0); // no store row: every comparison below fails and says so
        }

        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetFieldValue<byte[]>(2), reader.GetInt64(3), reader.GetInt64(4));
    }

    private static Dictionary<long, EntityChain> ReadEntities(NpgsqlConnection connection, NpgsqlTransaction transaction, string q)
    {
        var entities = new Dictionary<long, EntityChain>();
        using var command = new NpgsqlCommand($"SELECT entity_id, name, last_seq, last_hash FROM {q}.entities", connection, transaction);
        using NpgsqlDataReader reader = command.ExecuteReader();
        while (reader.Read())
        {
            entities[reader.GetInt64(0)] = new EntityChain(reader.GetString(1), reader.GetInt64(2), reader.GetFieldValue<byte[]>(3));
        }

        return entities;
    }
}
