// The read members of the PostgreSQL engine: by id, by region, by entity, by correlation, cursor pages and the
// subscription delivery. Every read is a keyset page query (1,000 rows) bounded by the high-water mark taken at the
// call, so no query runs per event. Called by StoreCore only.
using System.Diagnostics.CodeAnalysis;
using Batpak.Engine;
using Npgsql;

namespace Batpak.PostgreSql.Engine;

internal sealed partial class PostgresEngine
{
    private const int PageSize = 1000;

    /// <inheritdoc />
    public bool TryGet(EventId id, [NotNullWhen(true)] out StoredEvent? storedEvent)
    {
        using NpgsqlConnection connection = DataSource.OpenConnection();
        using var command = new NpgsqlCommand($"SELECT {EventRows.Columns} FROM {EventRows.From(Q)} WHERE e.event_id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id.ToGuid() });
        using NpgsqlDataReader reader = command.ExecuteReader();
        storedEvent = reader.Read() ? EventRows.Read(reader) : null;
        return storedEvent is not null;
    }

    /// <inheritdoc />
    public bool TryLocate(EventId id, out EventLocation location)
    {
        using NpgsqlConnection connection = DataSource.OpenConnection();
        using var command = new NpgsqlCommand($"SELECT n.name, e.entity_seq, e.global_seq FROM {Q}.events e JOIN {Q}.entities n ON n.entity_id = e.entity_id WHERE e.event_id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id.ToGuid() });
        using NpgsqlDataReader reader = command.ExecuteReader();
        location = reader.Read() ? new EventLocation(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2)) : default;
        return location.Entity is not null;
    }

    /// <inheritdoc />
    public IEnumerable<StoredEvent> Read(Region region)
    {
        long end = RegionSql.End(region, NextGlobalSequence); // as of the call
        return ReadPages(region, region.FromGlobalSequence, end);
    }

    /// <inheritdoc />
    public IEnumerable<StoredEvent> Stream(string entity, long fromSequence)
    {
        long last = GetLastSequence(entity); // as of the call
        return last < fromSequence ? [] : StreamPages(entity, fromSequence, last);
    }

    /// <inheritdoc />
    public IEnumerable<StoredEvent> ReadCorrelated(EventId correlationId)
    {
        var events = new List<StoredEvent>();
        using NpgsqlConnection connection = DataSource.OpenConnection();
        using var command = new NpgsqlCommand(
            $"SELECT {EventRows.Columns} FROM {EventRows.From(Q)} WHERE (e.event_id = $1 AND e.correlation_id IS NULL) OR e.correlation_id = $1 ORDER BY e.global_seq",
            connection);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = correlationId.ToGuid() });
        using NpgsqlDataReader reader = command.ExecuteReader();
        while (reader.Read())
        {
            events.Add(EventRows.Read(reader));
        }

        return events;
    }

    /// <inheritdoc />
    public (List<StoredEvent> Events, long Next) ReadRegionFrom(Region region, long from, int maxCount)
    {
        long end = RegionSql.End(region, NextGlobalSequence);
        long start = Math.Max(from, region.FromGlobalSequence);
        List<StoredEvent> events = start < end ? Page(region, start, end, maxCount) : [];
        long next = events.Count == maxCount ? events[^1].Header.GlobalSequence + 1 : Math.Max(from, end);
        return (events, next);
    }

    /// <inheritdoc />
    public long DeliverCommitted(long from, Subscription[] subscriptions)
    {
        ThrowIfDisposed();
        long end = NextGlobalSequence;
        if (subscriptions.Length == 0 || from >= end)
        {
            return Math.Max(from, end);
        }

        // One query for every subscription: only rows some subscription wants cross the wire.
        string Wanted(SqlParameters parameters) => string.Join(" OR ", subscriptions.Select(s => "(" + RegionSql.Predicate(s.Region, parameters, Q) + ")"));
        long next = from;
        while (next < end)
        {
            List<StoredEvent> page = Query(Wanted, next, end, PageSize);
            foreach (StoredEvent stored in page)
            {
                ThrowIfDisposed();
                EventHeader header = stored.Header;
                foreach (Subscription subscription in subscriptions)
                {
                    if (subscription.Wants(stored.Coordinate.Entity, stored.Coordinate.Scope, header.Kind, header.GlobalSequence, header.TimestampMicroseconds))
                    {
                        subscription.Deliver(stored);
                    }
                }
            }

            if (page.Count < PageSize)
            {
                break;
            }

            next = page[^1].Header.GlobalSequence + 1;
        }

        return end;
    }

    private IEnumerable<StoredEvent> ReadPages(Region region, long from, long end)
    {
        long next = from;
        while (next < end)
        {
            List<StoredEvent> page = Page(region, next, end, PageSize);
            foreach (StoredEvent stored in page)
            {
                yield return stored;
            }

            if (page.Count < PageSize)
            {
                yield break;
            }

            next = page[^1].Header.GlobalSequence + 1;
        }
    }

    private IEnumerable<StoredEvent> StreamPages(string entity, long from, long last)
    {
        long next = from;
        while (next <= last)
        {
            var page = new List<StoredEvent>(PageSize);
            using (NpgsqlConnection connection = DataSource.OpenConnection())
            using (var command = new NpgsqlCommand(
                $"SELECT {EventRows.Columns} FROM {EventRows.From(Q)} WHERE e.entity_id = (SELECT entity_id FROM {Q}.entities WHERE name = $1) AND e.entity_seq >= $2 AND e.entity_seq <= $3 ORDER BY e.entity_seq LIMIT {PageSize}",
                connection))
            {
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = entity });
                command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = next });
                command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = last });
                using NpgsqlDataReader reader = command.ExecuteReader();
                while (reader.Read())
                {
                    page.Add(EventRows.Read(reader));
                }
            }

            foreach (StoredEvent stored in page)
            {
                yield return stored;
            }

            if (page.Count < PageSize)
            {
                yield break;
            }

            next = page[^1].Header.Position.Sequence + 1;
        }
    }

    private List<StoredEvent> Page(Region region, long from, long end, int limit) =>
        Query(parameters => RegionSql.Predicate(region, parameters, Q), from, end, limit);

    /// <summary>Up to <paramref name="limit"/> events with <paramref name="from"/> &lt;= global_seq &lt; <paramref name="end"/> matching the predicate <paramref name="predicate"/> builds, in global order.</summary>
    private List<StoredEvent> Query(Func<SqlParameters, string> predicate, long from, long end, int limit)
    {
        ThrowIfDisposed();
        var parameters = new SqlParameters();
        string sql = $"SELECT {EventRows.Columns} FROM {EventRows.From(Q)} WHERE e.global_seq >= {parameters.Add(from)} AND e.global_seq < {parameters.Add(end)} AND ({predicate(parameters)}) ORDER BY e.global_seq LIMIT {parameters.Add(limit)}";
        var page = new List<StoredEvent>(Math.Min(limit, PageSize));
        using NpgsqlConnection connection = DataSource.OpenConnection();
        using var command = new NpgsqlCommand(sql, connection);
        parameters.AddTo(command);
        using NpgsqlDataReader reader = command.ExecuteReader();
        while (reader.Read())
        {
            page.Add(EventRows.Read(reader));
        }

        return page;
    }
}
