using System.Text.RegularExpressions;

namespace Poplib.Fetch.PostgreSql;

/// <summary>Where the retriever's shared state lives in PostgreSQL, and how its leases behave.</summary>
public sealed partial record PostgreSqlFetchOptions
{
    /// <summary>
    /// The database: a URL (<c>postgres://user@host:5432/db?sslmode=require</c>, as libpq takes it) or an Npgsql connection
    /// string (<c>Host=…;Database=…;Username=…</c>). Leave the password out and give it the way libpq and Npgsql read it —
    /// <c>PGPASSWORD</c> or a <c>~/.pgpass</c> file (<c>PGPASSFILE</c>) — so that it never appears on a command line. Never logged
    /// with its password (<see cref="PostgreSqlConnectionString.Masked"/>).
    /// </summary>
    public required string ConnectionString { get; init; }

    /// <summary>The PostgreSQL schema that holds Poplib's tables (created if missing). Default <c>poplib</c>.</summary>
    public string Schema
    {
        get;
        init => field = SchemaName().IsMatch(value ?? "")
            ? value! : throw new ArgumentException($"\"{value}\" is not a schema name Poplib accepts (lower-case letters, digits and _, at most 63).", nameof(value));
    } = "poplib";

    /// <summary>
    /// How long a lease on an account lasts unless renewed. Its holder renews it every third of this; a worker that dies or
    /// is cut off from the database loses the account after at most this long, and another worker takes it over. Default
    /// one minute; between 2 seconds and an hour.
    /// </summary>
    public TimeSpan LeaseDuration
    {
        get;
        init => field = value >= TimeSpan.FromSeconds(2) && value <= TimeSpan.FromHours(1)
            ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "A lease lasts between 2 seconds and an hour.");
    } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Whether opening the database creates or upgrades the schema (serialised by an advisory lock, so any number of workers
    /// may start at once). Set false where the workers' role may not create tables: the schema must then exist and be current.
    /// Default true.
    /// </summary>
    public bool Migrate { get; init; } = true;

    /// <summary>This process's name in the leases (<c>host:pid</c> by default), shown by <c>poplib fetch --status</c>.</summary>
    public string Owner { get; init; } = $"{Environment.MachineName}:{Environment.ProcessId}";

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex SchemaName();
}
