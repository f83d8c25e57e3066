// Region -> SQL: one translator for Read, ReadRegionFrom and DeliverCommitted, so every region filter is applied by
// the server on an index (docs/POSTGRESQL.md lists which), and a page's range is stated so the generic plan uses it. Used by PostgresEngine.Reads.cs only.
using Npgsql;

namespace Batpak.PostgreSql.Engine;

/// <summary>Positional parameters of one statement ($1, $2, ...).</summary>
internal sealed class SqlParameters
{
    public List<NpgsqlParameter> List { get; } = [];

    /// <summary>Adds <paramref name="value"/> and returns its placeholder.</summary>
    public string Add<T>(T value)
    {
        List.Add(new NpgsqlParameter<T> { TypedValue = value });
        return "$" + List.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    public void AddTo(NpgsqlCommand command)
    {
        foreach (NpgsqlParameter parameter in List)
        {
            command.Parameters.Add(parameter);
        }
    }
}

/// <summary>Translates a <see cref="Region"/>'s filters (entity, prefix, scope, kinds, timestamps, its own global range) to a predicate over <c>e</c>.</summary>
internal static class RegionSql
{
    /// <summary>A predicate (<c>TRUE</c> for <see cref="Region.All"/>) for <paramref name="region"/> in schema <paramref name="q"/>.</summary>
    public static string Predicate(Region region, SqlParameters parameters, string q)
    {
        var parts = new List<string>();
        if (region.Entity is { } entity)
        {
            parts.Add($"e.entity_id = (SELECT entity_id FROM {q}.entities WHERE name = {parameters.Add(entity)})");
        }

        if (region.EntityPrefix is { } prefix)
        {
            // Byte-wise (C collation) prefix range: [p, p + U+10FFFF) holds exactly the names starting with p, except
            // those continuing with U+10FFFF itself, which the second arm catches.
            string upper = prefix + "\U0010FFFF";
            string p = parameters.Add(prefix);
            string u = parameters.Add(upper);
            parts.Add($"e.entity_id IN (SELECT entity_id FROM {q}.entities WHERE (name >= {p} AND name < {u}) OR starts_with(name, {u}))");
        }

        if (region.Scope is { } scope)
        {
            parts.Add($"e.scope_id = {ScopeId(q, parameters.Add(scope))}");
        }

        switch (region.Kinds.Mode)
        {
            case KindFilterMode.Exact:
                parts.Add($"e.kind = {parameters.Add((int)region.Kinds.Value)}");
                break;
            case KindFilterMode.Category:
                parts.Add($"(e.kind >> 12) = {parameters.Add((int)region.Kinds.Value)}");
                break;
            default:
                break;
        }

        if (region.FromTimestampMicroseconds != long.MinValue)
        {
            parts.Add($"e.ts_us >= {parameters.Add(region.FromTimestampMicroseconds)}");
        }

        if (region.ToTimestampMicroseconds != long.MaxValue)
        {
            parts.Add($"e.ts_us <= {parameters.Add(region.ToTimestampMicroseconds)}");
        }

        if (region.FromGlobalSequence > 0)
        {
            parts.Add($"e.global_seq >= {parameters.Add(region.FromGlobalSequence)}");
        }

        if (region.ToGlobalSequence != long.MaxValue)
        {
            parts.Add($"e.global_seq <= {parameters.Add(region.ToGlobalSequence)}");
        }

        return parts.Count == 0 ? "TRUE" : string.Join(" AND ", parts);
    }

    /// <summary>
    /// The WHERE clause of a page of <paramref name="region"/>: <paramref name="from"/> &lt;= global_seq &lt;
    /// <paramref name="end"/> and the region's filters. With a scope or kind filter, the range is also stated as a
    /// row comparison on that filter's (column, global_seq) index: the planner's generic plan (prepared statements)
    /// estimates a parameter range as narrow and would otherwise walk the primary key in order, filtering out every
    /// other scope's rows, where the index reads only the rows it returns.
    /// </summary>
    public static string Where(Region region, SqlParameters parameters, string q, long from, long end)
    {
        (string Column, string Value)? lead = region.Entity is not null || region.EntityPrefix is not null ? null
            : region.Scope is { } scope ? ("e.scope_id", ScopeId(q, parameters.Add(scope)))
            : region.Kinds.Mode == KindFilterMode.Exact ? ("e.kind", parameters.Add((int)region.Kinds.Value))
            : region.Kinds.Mode == KindFilterMode.Category ? ("(e.kind >> 12)", parameters.Add((int)region.Kinds.Value))
            : null;
        string range = lead is not { } l
            ? Range(parameters, from, end)
            : $"{l.Column} = {l.Value} AND ({l.Column}, e.global_seq) >= ({l.Value}, {parameters.Add(from)}) AND ({l.Column}, e.global_seq) < ({l.Value}, {parameters.Add(end)})";
        return $"{range} AND ({Predicate(region, parameters, q)})";
    }

    /// <summary><paramref name="from"/> &lt;= global_seq &lt; <paramref name="end"/>, on the primary key.</summary>
    public static string Range(SqlParameters parameters, long from, long end) =>
        $"e.global_seq >= {parameters.Add(from)} AND e.global_seq < {parameters.Add(end)}";

    /// <summary>The scope id of the scope named by <paramref name="placeholder"/>, as a sub-select (one value per statement).</summary>
    private static string ScopeId(string q, string placeholder) => $"(SELECT scope_id FROM {q}.scopes WHERE name = {placeholder})";

    /// <summary>The exclusive end of <paramref name="region"/>'s global range, bounded by <paramref name="next"/> (the high-water mark).</summary>
    public static long End(Region region, long next) => region.ToGlobalSequence == long.MaxValue ? next : Math.Min(next, region.ToGlobalSequence + 1);
}
