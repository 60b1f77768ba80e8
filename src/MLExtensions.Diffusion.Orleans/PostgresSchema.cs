using Npgsql;

namespace MLExtensions.Diffusion.Orleans;

/// <summary>Installs the tables and queries that Orleans' ADO.NET clustering and persistence providers need on a
/// PostgreSQL database: the Orleans project's scripts PostgreSQL-Main.sql, PostgreSQL-Clustering.sql and
/// PostgreSQL-Persistence.sql, embedded unedited in this assembly.</summary>
public static class PostgresSchema
{
    /// <summary>The scripts, in the order they run.</summary>
    public static IReadOnlyList<string> ScriptNames { get; } = ["PostgreSQL-Main.sql", "PostgreSQL-Clustering.sql", "PostgreSQL-Persistence.sql"];

    /// <summary>The text of one embedded script.</summary>
    /// <param name="name">One of <see cref="ScriptNames"/>.</param>
    /// <returns>The SQL.</returns>
    /// <exception cref="ArgumentException">Not an embedded script.</exception>
    public static string Script(string name)
    {
        using var stream = typeof(PostgresSchema).Assembly.GetManifestResourceStream($"MLExtensions.Diffusion.Orleans.Sql.{name}")
                           ?? throw new ArgumentException($"'{name}' is not an embedded script; use one of {string.Join(", ", ScriptNames)}.", nameof(name));
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>Whether the database already has the Orleans tables (OrleansQuery, the membership and storage tables).</summary>
    /// <param name="connectionString">An Npgsql connection string.</param>
    /// <param name="cancellationToken">Cancels.</param>
    /// <returns>True when installed.</returns>
    public static async Task<bool> IsInstalledAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FROM information_schema.tables WHERE table_name IN ('orleansquery', 'orleansmembershiptable', 'orleansstorage')", connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false)) == 3;
    }

    /// <summary>Runs the three scripts on the database, unless <see cref="IsInstalledAsync"/> says they ran before.</summary>
    /// <param name="connectionString">An Npgsql connection string of a user allowed to create tables and functions.</param>
    /// <param name="cancellationToken">Cancels.</param>
    /// <returns>True when the scripts ran, false when the schema was there.</returns>
    /// <exception cref="ArgumentException">The connection string is empty.</exception>
    /// <exception cref="NpgsqlException">The database cannot be reached or a script fails.</exception>
    public static async Task<bool> InstallAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        if (await IsInstalledAsync(connectionString, cancellationToken).ConfigureAwait(false)) return false;
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        foreach (var name in ScriptNames)
        {
            await using var command = new NpgsqlCommand(Script(name), connection);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        return true;
    }
}
