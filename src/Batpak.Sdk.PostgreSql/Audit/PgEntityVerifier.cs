// Verify(entity) of the PostgreSQL engine: one entity's kept and dropped events merged by entity sequence, read in
// one REPEATABLE READ read-only snapshot, each checked by ChainChecks, and the end compared with the entities row.
// Called by PostgresEngine.Verify only.
using Batpak.PostgreSql.Engine;
using Npgsql;

namespace Batpak.PostgreSql.Audit;

/// <summary>Recomputes one entity's hash chain from its stored rows.</summary>
internal static class PgEntityVerifier
{
    /// <summary>
    /// Valid when the entity's sequences run from 0 without a gap no drop accounts for, every link and every live
    /// event's hash recompute, every drop and tombstone carries its proof, and the chain ends at the entities row's
    /// last sequence and hash. <see cref="ChainVerification.EventsChecked"/> counts the rows of <c>events</c>
    /// (live and tombstoned), as the embedded engine counts its index entries.
    /// </summary>
    public static ChainVerification Verify(PostgresEngine engine, string entity)
    {
        string q = engine.Q;
        using NpgsqlConnection connection = engine.DataSource.OpenConnection();
        using NpgsqlTransaction transaction = AuditRows.BeginSnapshot(connection);
        long entityId;
        EntityChain chain;
        using (var find = new NpgsqlCommand($"SELECT entity_id, last_seq, last_hash FROM {q}.entities WHERE name = $1", connection, transaction))
        {
            find.Parameters.Add(new NpgsqlParameter<string> { TypedValue = entity });
            using NpgsqlDataReader reader = find.ExecuteReader();
            if (!reader.Read())
            {
                return new ChainVerification(true, 0, null); // an entity without events has an empty, valid chain
            }

            entityId = reader.GetInt64(0);
            chain = new EntityChain(entity, reader.GetInt64(1), reader.GetFieldValue<byte[]>(2));
        }

        using var checks = new ChainChecks(engine.ChainKey, AuditRows.Scopes(connection, transaction, q));
        long checkedCount = 0;
        using (var rows = new NpgsqlCommand(AuditRows.Sql(q, "WHERE e.entity_id = $1", "WHERE d.entity_id = $1", byEntitySequence: true), connection, transaction))
        {
            rows.Parameters.Add(new NpgsqlParameter<long> { TypedValue = entityId });
            using NpgsqlDataReader reader = rows.ExecuteReader();
            while (reader.Read())
            {
                AuditRow row = AuditRows.Read(reader);
                if (checks.Check(row, chain, out _) is { } failure)
                {
                    return new ChainVerification(false, checkedCount, failure);
                }

                checkedCount += row.IsDropped ? 0 : 1;
            }
        }

        string? end = chain.EndProblem();
        transaction.Commit();
        return new ChainVerification(end is null, checkedCount, end);
    }
}
