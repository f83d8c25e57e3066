// The read members of the PostgreSQL engine: by id, by region, by entity, by correlation, cursor pages and the
// subscription delivery. Every read is a keyset page query (1,000 rows). Read and Stream run their first page at the
// call, and it reads the bound of the later pages (the high-water mark, the entity's last sequence) in its own
// snapshot: no query runs per event and a read that fits one page is one round trip. Rows come from the events table
// alone; entity and scope names come from NameCache (one more query only for names it has not seen). Called by
// StoreCore only.
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
        using var command = new NpgsqlCommand($"SELECT {EventRows.Columns} FROM {Q}.events e WHERE e.event_id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id.ToGuid() });
        List<StoredEvent> found = Run(command);
        storedEvent = found.Count == 0 ? null : found[0];
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
        // The first page is read now, as of the call; it also reads the high-water mark in its own snapshot (every
        // row it sees is below it), which bounds the later pages.
        (List<StoredEvent> first, long highWater) = Query(Predicate(region), region.FromGlobalSequence, RegionSql.End(region, long.MaxValue), PageSize, highWater: true);
        return ReadPages(region, first, Math.Min(RegionSql.End(region, long.MaxValue), highWater));
    }

    /// <inheritdoc />
    public IEnumerable<StoredEvent> Stream(string entity, long fromSequence) => Stream(entity, fromSequence, int.MaxValue);

    /// <inheritdoc />
    public IEnumerable<StoredEvent> Stream(string entity, long fromSequence, int maxCount)
    {
        if (maxCount == 0)
        {
            return [];
        }

        // The first page is read now, as of the call, with the entity's last sequence in the same snapshot.
        (List<StoredEvent> first, long last) = StreamPage(entity, fromSequence, long.MaxValue, Math.Min(PageSize, maxCount));
        return StreamPages(entity, first, last, maxCount);
    }

    /// <inheritdoc />
    public IEnumerable<StoredEvent> ReadCorrelated(EventId correlationId)
    {
        using NpgsqlConnection connection = DataSource.OpenConnection();
        using var command = new NpgsqlCommand(
            $"SELECT {EventRows.Columns} FROM {Q}.events e WHERE (e.event_id = $1 AND e.correlation_id IS NULL) OR e.correlation_id = $1 ORDER BY e.global_seq",
            connection);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = correlationId.ToGuid() });
        return Run(command);
    }

    /// <inheritdoc />
    public (List<StoredEvent> Events, long Next) ReadRegionFrom(Region region, long from, int maxCount)
    {
        ThrowIfDisposed();
        long start = Math.Max(from, region.FromGlobalSequence);
        long regionEnd = RegionSql.End(region, long.MaxValue);
        var parameters = new SqlParameters();

        // One statement, so one snapshot and one round trip: the high-water mark (always one row, even when no event
        // matches) and the page below it.
        string sql = $"SELECT p.*, m.next_global FROM (SELECT next_global FROM {Q}.store WHERE id = 1) m LEFT JOIN LATERAL (SELECT {EventRows.Columns} FROM {Q}.events e WHERE {RegionSql.Where(region, parameters, Q, start, regionEnd)} AND e.global_seq < m.next_global ORDER BY e.global_seq LIMIT {parameters.Add(maxCount)}) p ON TRUE";
        var rows = new List<EventRow>(Math.Min(maxCount, 64));
        long highWater;
        using NpgsqlConnection connection = DataSource.OpenConnection();
        using (var command = new NpgsqlCommand(sql, connection))
        {
            parameters.AddTo(command);
            using NpgsqlDataReader reader = command.ExecuteReader();
            highWater = EventRows.ReadAll(reader, rows, extra: true, none: start);
        }

        List<StoredEvent> events = Names.Resolve(connection, rows);
        long end = Math.Min(regionEnd, highWater);
        long next = maxCount > 0 && events.Count == maxCount ? events[^1].Header.GlobalSequence + 1 : Math.Max(from, end);
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
        string Wanted(SqlParameters parameters, long start, long stop) =>
            $"{RegionSql.Range(parameters, start, stop)} AND (" + string.Join(" OR ", subscriptions.Select(s => "(" + RegionSql.Predicate(s.Region, parameters, Q) + ")")) + ")";
        long next = from;
        while (next < end)
        {
            List<StoredEvent> page = Query(Wanted, next, end, PageSize, highWater: false).Page;
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

    private Func<SqlParameters, long, long, string> Predicate(Region region) => (parameters, from, end) => RegionSql.Where(region, parameters, Q, from, end);

    /// <summary>The events of <paramref name="region"/>: <paramref name="first"/>, then the pages after it below <paramref name="end"/>.</summary>
    private IEnumerable<StoredEvent> ReadPages(Region region, List<StoredEvent> first, long end)
    {
        List<StoredEvent> page = first;
        while (true)
        {
            foreach (StoredEvent stored in page)
            {
                yield return stored;
            }

            long next = page.Count < PageSize ? end : page[^1].Header.GlobalSequence + 1;
            if (next >= end)
            {
                yield break;
            }

            page = Query(Predicate(region), next, end, PageSize, highWater: false).Page;
        }
    }

    /// <summary>Up to <paramref name="maxCount"/> events of <paramref name="entity"/>: <paramref name="first"/>, then the pages after it up to sequence <paramref name="last"/>.</summary>
    private IEnumerable<StoredEvent> StreamPages(string entity, List<StoredEvent> first, long last, int maxCount)
    {
        List<StoredEvent> page = first;
        int left = maxCount;
        while (true)
        {
            foreach (StoredEvent stored in page)
            {
                yield return stored;
            }

            left -= page.Count;
            if (page.Count < PageSize || left <= 0 || page[^1].Header.Position.Sequence >= last)
            {
                yield break;
            }

            page = StreamPage(entity, page[^1].Header.Position.Sequence + 1, last, Math.Min(PageSize, left)).Page;
        }
    }

    /// <summary>Up to <paramref name="limit"/> of <paramref name="entity"/>'s events from sequence <paramref name="from"/> to <paramref name="last"/>, and the entity's last sequence in the same snapshot.</summary>
    private (List<StoredEvent> Page, long Last) StreamPage(string entity, long from, long last, int limit)
    {
        ThrowIfDisposed();
        // The entity id is a sub-select (one value for the whole statement), so the plan walks the (entity_id,
        // entity_seq) index in order and stops at the limit, with no sort.
        using NpgsqlConnection connection = DataSource.OpenConnection();
        using var command = new NpgsqlCommand(
            $"SELECT {EventRows.Columns}, (SELECT last_seq FROM {Q}.entities WHERE name = $1) FROM {Q}.events e WHERE e.entity_id = (SELECT entity_id FROM {Q}.entities WHERE name = $1) AND e.entity_seq >= $2 AND e.entity_seq <= $3 ORDER BY e.entity_seq LIMIT $4",
            connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = entity });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = from });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = last });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        var rows = new List<EventRow>(Math.Min(limit, 64));
        long entityLast;
        using (NpgsqlDataReader reader = command.ExecuteReader())
        {
            entityLast = EventRows.ReadAll(reader, rows, extra: true);
        }

        return (Names.Resolve(connection, rows, entity), entityLast);
    }

    /// <summary>
    /// Up to <paramref name="limit"/> events with <paramref name="from"/> &lt;= global_seq &lt; <paramref name="end"/>
    /// matching the clause <paramref name="where"/> builds for that range, in global order; with <paramref name="highWater"/>,
    /// also the store's high-water mark in the same snapshot (else <paramref name="end"/>).
    /// </summary>
    private (List<StoredEvent> Page, long HighWater) Query(Func<SqlParameters, long, long, string> where, long from, long end, int limit, bool highWater)
    {
        ThrowIfDisposed();
        var parameters = new SqlParameters();
        string mark = highWater ? $"SELECT next_global FROM {Q}.store WHERE id = 1" : "NULL::bigint";
        string sql = $"SELECT {EventRows.Columns}, ({mark}) FROM {Q}.events e WHERE {where(parameters, from, end)} ORDER BY e.global_seq LIMIT {parameters.Add(limit)}";
        var rows = new List<EventRow>(Math.Min(limit, 64));
        using NpgsqlConnection connection = DataSource.OpenConnection();
        using var command = new NpgsqlCommand(sql, connection);
        parameters.AddTo(command);
        long mark0;
        using (NpgsqlDataReader reader = command.ExecuteReader())
        {
            mark0 = EventRows.ReadAll(reader, rows, extra: highWater, none: end);
        }

        return (Names.Resolve(connection, rows), mark0);
    }

    /// <summary>Runs <paramref name="command"/> (selecting <see cref="EventRows.Columns"/>) and resolves its rows on the command's connection.</summary>
    private List<StoredEvent> Run(NpgsqlCommand command)
    {
        var rows = new List<EventRow>();
        using (NpgsqlDataReader reader = command.ExecuteReader())
        {
            EventRows.ReadAll(reader, rows);
        }

        return Names.Resolve(command.Connection!, rows);
    }
}
