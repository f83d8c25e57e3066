// Entity and scope names by id, so reads select the events table alone instead of joining entities and scopes on
// every row. An id never changes its name (both tables are only ever inserted into), so a cached name stays right;
// the names a page misses are loaded in one query after the page. Owned by PostgresEngine; used by its reads and by
// PgCompactionRunner.
using System.Collections.Concurrent;
using Npgsql;

namespace Batpak.PostgreSql.Engine;

/// <summary>Turns <see cref="EventRow"/>s into <see cref="StoredEvent"/>s with cached entity and scope names.</summary>
internal sealed class NameCache(string schema, string q)
{
    private const int MaxEntities = 100_000; // bounded: past it the entity names start over (scopes are few)

    private readonly ConcurrentDictionary<long, string> _entities = new();
    private readonly ConcurrentDictionary<int, string> _scopes = new();

    /// <summary>
    /// The events of <paramref name="rows"/>, in order. Names not cached are read on <paramref name="connection"/>
    /// (its reader must be closed); <paramref name="entity"/>, when given, is every row's entity name.
    /// </summary>
    public List<StoredEvent> Resolve(NpgsqlConnection connection, List<EventRow> rows, string? entity = null)
    {
        HashSet<long>? entityMisses = null;
        HashSet<int>? scopeMisses = null;
        foreach (EventRow row in rows)
        {
            if (entity is null && !_entities.ContainsKey(row.EntityId))
            {
                (entityMisses ??= []).Add(row.EntityId);
            }

            if (!_scopes.ContainsKey(row.ScopeId))
            {
                (scopeMisses ??= []).Add(row.ScopeId);
            }
        }

        Dictionary<long, string>? loadedEntities = null;
        Dictionary<int, string>? loadedScopes = null;
        if (entityMisses is not null || scopeMisses is not null)
        {
            (loadedEntities, loadedScopes) = Load(connection, entityMisses, scopeMisses);
        }

        var events = new List<StoredEvent>(rows.Count);
        foreach (EventRow row in rows)
        {
            string entityName = entity ?? Name(_entities, loadedEntities, row.EntityId, row, "entity", "entities");
            string scopeName = Name(_scopes, loadedScopes, row.ScopeId, row, "scope", "scopes");
            events.Add(new StoredEvent(Coordinate.FromTrusted(entityName, scopeName), row.Fields, row.Payload, default, row.IdempotencyKey, row.BypassReason));
        }

        return events;
    }

    private (Dictionary<long, string> Entities, Dictionary<int, string> Scopes) Load(NpgsqlConnection connection, HashSet<long>? entityIds, HashSet<int>? scopeIds)
    {
        var entities = new Dictionary<long, string>();
        var scopes = new Dictionary<int, string>();
        using var command = new NpgsqlCommand(
            $"SELECT 0, entity_id, name FROM {q}.entities WHERE entity_id = ANY($1) UNION ALL SELECT 1, scope_id, name FROM {q}.scopes WHERE scope_id = ANY($2)",
            connection);
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = entityIds is null ? [] : [.. entityIds] });
        command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = scopeIds is null ? [] : [.. scopeIds] });
        using (NpgsqlDataReader reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                if (reader.GetInt32(0) == 0)
                {
                    entities[reader.GetInt64(1)] = reader.GetString(2);
                }
                else
                {
                    scopes[(int)reader.GetInt64(1)] = reader.GetString(2);
                }
            }
        }

        if (_entities.Count + entities.Count > MaxEntities)
        {
            _entities.Clear();
        }

        foreach ((long id, string name) in entities)
        {
            _entities[id] = name;
        }

        foreach ((int id, string name) in scopes)
        {
            _scopes[id] = name;
        }

        return (entities, scopes);
    }

    private string Name<TId>(ConcurrentDictionary<TId, string> cache, Dictionary<TId, string>? loaded, TId id, in EventRow row, string what, string table)
        where TId : notnull =>
        cache.TryGetValue(id, out string? name) || (loaded is not null && loaded.TryGetValue(id, out name))
            ? name
            : throw new PostgresSchemaException(schema, $"Schema \"{schema}\": event {row.Fields.GlobalSequence} names {what} id {id}, which is not in table {table}; the schema was damaged.");
}
