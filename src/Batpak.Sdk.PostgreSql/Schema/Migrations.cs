// The versioned DDL shipped as embedded resources (Schema/Migrations/V<n>__<description>.sql) and the script for a
// schema. Read by MigrationRunner at open and by PostgresEventStore.MigrationScript for a DBA.
using System.Globalization;
using System.Reflection;
using System.Text;

namespace Batpak.PostgreSql.Schema;

/// <summary>One migration: its version, description and SQL (with <c>__SCHEMA__</c> not yet replaced).</summary>
internal sealed record Migration(int Version, string Description, string Sql)
{
    /// <summary>The SQL for <paramref name="schema"/> (the name is quoted as an identifier).</summary>
    public string SqlFor(string schema) => Sql.Replace("__SCHEMA__", SchemaName.Quote(schema), StringComparison.Ordinal);
}

/// <summary>Every migration this library knows, in version order.</summary>
internal static class Migrations
{
    private const string Prefix = "Batpak.PostgreSql.Migrations.";

    private static readonly Lazy<IReadOnlyList<Migration>> s_all = new(Load);

    /// <summary>The migrations, version 1 first, dense.</summary>
    public static IReadOnlyList<Migration> All => s_all.Value;

    /// <summary>The newest schema version this library knows.</summary>
    public static int LatestVersion => All[^1].Version;

    /// <summary>
    /// The SQL a DBA runs to bring <paramref name="schema"/> from <paramref name="fromVersion"/> (0: nothing) to
    /// <see cref="LatestVersion"/>, recording each version in <c>schema_version</c>, in one transaction.
    /// </summary>
    public static string Script(string schema, int fromVersion)
    {
        SchemaName.Validate(schema, nameof(schema));
        if (fromVersion < 0 || fromVersion > LatestVersion)
        {
            throw new ArgumentOutOfRangeException(nameof(fromVersion), fromVersion, $"The schema version to start from is 0 (an empty schema) to {LatestVersion}, the newest this library knows.");
        }

        var script = new StringBuilder();
        script.Append("BEGIN;\n");
        script.Append(CultureInfo.InvariantCulture, $"CREATE SCHEMA IF NOT EXISTS {SchemaName.Quote(schema)};\n");
        foreach (Migration migration in All)
        {
            if (migration.Version <= fromVersion)
            {
                continue;
            }

            script.Append(CultureInfo.InvariantCulture, $"\n-- V{migration.Version}: {migration.Description}\n");
            script.Append(migration.SqlFor(schema));
            script.Append(CultureInfo.InvariantCulture, $"\nINSERT INTO {SchemaName.Quote(schema)}.schema_version (version, description) VALUES ({migration.Version}, '{migration.Description.Replace("'", "''", StringComparison.Ordinal)}') ON CONFLICT (version) DO NOTHING;\n");
        }

        script.Append("COMMIT;\n");
        return script.ToString();
    }

    private static List<Migration> Load()
    {
        Assembly assembly = typeof(Migrations).Assembly;
        var migrations = new List<Migration>();
        foreach (string resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(Prefix, StringComparison.Ordinal) || !resource.EndsWith(".sql", StringComparison.Ordinal))
            {
                continue;
            }

            string file = resource[Prefix.Length..^".sql".Length]; // V1__initial
            int separator = file.IndexOf("__", StringComparison.Ordinal);
            if (file[0] != 'V' || separator < 2 || !int.TryParse(file.AsSpan(1, separator - 1), NumberStyles.None, CultureInfo.InvariantCulture, out int version))
            {
                throw new InvalidOperationException($"Embedded migration \"{resource}\" is not named V<version>__<description>.sql.");
            }

            using Stream stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            migrations.Add(new Migration(version, file[(separator + 2)..].Replace('_', ' '), reader.ReadToEnd()));
        }

        migrations.Sort(static (a, b) => a.Version.CompareTo(b.Version));
        for (int i = 0; i < migrations.Count; i++)
        {
            if (migrations[i].Version != i + 1)
            {
                throw new InvalidOperationException($"Embedded migrations are not dense from V1: found V{migrations[i].Version} at position {i + 1}.");
            }
        }

        return migrations.Count == 0 ? throw new InvalidOperationException("No embedded migrations found (Schema/Migrations/*.sql).") : migrations;
    }
}
