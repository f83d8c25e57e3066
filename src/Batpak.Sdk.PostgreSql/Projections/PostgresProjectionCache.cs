// Projection states kept in the store's projection_cache table, so every instance of an app shares them and they
// survive restarts (the PostgreSQL counterpart of DiskProjectionCache). Created by applications or by
// AddPostgresProjectionCache; ProjectionEngine calls it.
using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using MessagePack;
using Npgsql;

namespace Batpak.PostgreSql;

/// <summary>
/// An <see cref="IProjectionCache"/> in the store's schema: one row per (projection, entity), upserted on
/// <see cref="Set{TState}"/>. A row of another <see cref="IProjection{TSelf}.SchemaVersion"/> or one whose state does
/// not decode is a miss (the engine rebuilds it). Thread-safe.
/// </summary>
public sealed class PostgresProjectionCache : IProjectionCache
{
    private readonly PostgresEventStore _store;

    /// <summary>A cache in <paramref name="store"/>'s schema (it uses the store's connections).</summary>
    public PostgresProjectionCache(PostgresEventStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
    }

    /// <inheritdoc />
    public bool TryGet<TState>(string entity, [NotNullWhen(true)] out CachedProjection<TState>? cached)
        where TState : IProjection<TState>
    {
        ArgumentNullException.ThrowIfNull(entity);
        cached = null;
        using NpgsqlConnection connection = _store.Engine.DataSource.OpenConnection();
        using var command = new NpgsqlCommand($"SELECT schema_version, watermark, last_event_id, refreshed_at, state FROM {_store.Engine.Q}.projection_cache WHERE projection = $1 AND entity = $2", connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = TState.ProjectionName });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = entity });
        using NpgsqlDataReader reader = command.ExecuteReader();
        if (!reader.Read() || reader.GetInt32(0) != TState.SchemaVersion)
        {
            return false;
        }

        try
        {
            var stateReader = new MessagePackReader(reader.GetFieldValue<byte[]>(4));
            TState state = TState.Deserialize(ref stateReader);
            EventId last = reader.IsDBNull(2) ? EventId.Empty : EventId.FromGuid(reader.GetGuid(2));
            cached = new CachedProjection<TState>(state, reader.GetInt64(1), last, TState.SchemaVersion, reader.GetFieldValue<DateTimeOffset>(3));
            return true;
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException or OverflowException or ArgumentException or FormatException or InvalidOperationException)
        {
            return false; // a state this build cannot read: rebuilt from the events
        }
    }

    /// <inheritdoc />
    public void Set<TState>(string entity, CachedProjection<TState> cached)
        where TState : IProjection<TState>
    {
        ArgumentNullException.ThrowIfNull(entity);
        ArgumentNullException.ThrowIfNull(cached);
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        TState.Serialize(ref writer, cached.State);
        writer.Flush();
        using NpgsqlConnection connection = _store.Engine.DataSource.OpenConnection();
        using var command = new NpgsqlCommand(
            $"""
            INSERT INTO {_store.Engine.Q}.projection_cache (projection, entity, schema_version, watermark, last_event_id, refreshed_at, state)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT (projection, entity) DO UPDATE SET schema_version = EXCLUDED.schema_version, watermark = EXCLUDED.watermark,
                last_event_id = EXCLUDED.last_event_id, refreshed_at = EXCLUDED.refreshed_at, state = EXCLUDED.state
            """,
            connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = TState.ProjectionName });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = entity });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = cached.SchemaVersion });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = cached.Watermark });
        command.Parameters.Add(new NpgsqlParameter { Value = cached.LastEventId.IsEmpty ? DBNull.Value : cached.LastEventId.ToGuid(), NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = cached.RefreshedAt.ToUniversalTime() });
        command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = buffer.WrittenSpan.ToArray() });
        command.ExecuteNonQuery();
    }

    /// <inheritdoc />
    public void Remove<TState>(string entity)
        where TState : IProjection<TState>
    {
        ArgumentNullException.ThrowIfNull(entity);
        using NpgsqlConnection connection = _store.Engine.DataSource.OpenConnection();
        using var command = new NpgsqlCommand($"DELETE FROM {_store.Engine.Q}.projection_cache WHERE projection = $1 AND entity = $2", connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = TState.ProjectionName });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = entity });
        command.ExecuteNonQuery();
    }
}
