using Npgsql;
using Poplib.Fetch.PostgreSql.Accounts;
using Poplib.Fetch.PostgreSql.Leases;
using Poplib.Fetch.PostgreSql.Schema;
using Poplib.Fetch.State;

namespace Poplib.Fetch.PostgreSql;

/// <summary>
/// The retriever's shared state in one PostgreSQL database: message rows (the same rows and two-phase delivery rules as
/// <see cref="SqliteFetchStateStore"/>), leases on accounts with fencing tokens, and the accounts a fleet of workers shares.
/// Open one per process (it owns a connection pool); <see cref="OpenStore"/> gives each run its state store.
/// </summary>
/// <remarks>
/// <para><b>Leases.</b> A run holds its account by a row in <c>leases</c> with an expiry and a token drawn from a sequence:
/// renewed every third of <see cref="PostgreSqlFetchOptions.LeaseDuration"/>, released at the end, taken over by another
/// worker only after it expired. Every state write first calls the schema's <c>fence(account, token)</c> in the same
/// transaction, which fails unless that token's lease is current — so a worker that lost its lease (frozen, cut off, too
/// slow) can record nothing, and the engine checks the lease on its local clock before every DELE and QUIT.</para>
/// <para><b>Durability.</b> Each write is one transaction, committed before the call returns; with PostgreSQL's default
/// <c>synchronous_commit = on</c> that is on disk — the property the two-phase delivery needs. Do not turn it off.</para>
/// </remarks>
public sealed class PostgreSqlFetchDatabase : IDisposable, IAsyncDisposable
{
    private readonly NpgsqlDataSource _source;

    private PostgreSqlFetchDatabase(NpgsqlDataSource source, PostgreSqlFetchOptions options, string display)
    {
        _source = source;
        Options = options;
        Display = display;
        Accounts = new PostgreSqlFetchAccounts(this);
    }

    /// <summary>The options it was opened with.</summary>
    public PostgreSqlFetchOptions Options { get; }

    /// <summary>The database as it may be shown: host, port, database and user, never the password.</summary>
    public string Display { get; }

    /// <summary>The accounts a fleet of workers shares: add, update, remove, and read their status.</summary>
    public PostgreSqlFetchAccounts Accounts { get; }

    internal NpgsqlDataSource Source => _source;

    internal string Schema => Options.Schema;

    /// <summary>
    /// Opens the database and creates or upgrades Poplib's schema (<see cref="PostgreSqlFetchOptions.Migrate"/>). Throws
    /// <see cref="FetchException"/>: <see cref="FetchFailure.Configuration"/> for a connection string that cannot be read,
    /// <see cref="FetchFailure.State"/> for a database that cannot be reached or logged into, a schema it may not create,
    /// or a schema newer than this code — each message naming the database (without the password) and what to do.
    /// </summary>
    /// <param name="options">Where and how.</param>
    public static PostgreSqlFetchDatabase Open(PostgreSqlFetchOptions options) =>
        OpenCoreAsync(options, async: false, CancellationToken.None).GetAwaiter().GetResult();

    /// <inheritdoc cref="Open"/>
    /// <param name="options">Where and how.</param>
    /// <param name="cancellationToken">Cancels opening.</param>
    public static Task<PostgreSqlFetchDatabase> OpenAsync(PostgreSqlFetchOptions options, CancellationToken cancellationToken = default) =>
        OpenCoreAsync(options, async: true, cancellationToken);

    private static async Task<PostgreSqlFetchDatabase> OpenCoreAsync(PostgreSqlFetchOptions options, bool async, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        NpgsqlConnectionStringBuilder builder = PostgreSqlConnectionString.Parse(options.ConnectionString);
        builder.ApplicationName ??= "poplib-fetch";
        if (builder.Timeout == 15)
            builder.Timeout = 10; // connect: a worker cut off from the database must notice before its lease runs out
        if (builder.CommandTimeout == 30)
            builder.CommandTimeout = 20;
        string display = $"{builder.Host}:{builder.Port}/{builder.Database ?? builder.Username} as {builder.Username ?? "(default user)"}";
        NpgsqlDataSource source = new NpgsqlDataSourceBuilder(builder.ConnectionString).Build();
        var database = new PostgreSqlFetchDatabase(source, options, display);
        try
        {
            await database.Run(() => SchemaInstaller.EnsureAsync(source, options, async, cancellationToken), "open").ConfigureAwait(false);
            return database;
        }
        catch
        {
            await source.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// A state store for one run (not thread-safe; one per concurrent run, as with SQLite). Its
    /// <see cref="IFetchStateStore.LockAccount"/> takes the account's lease, or fails with
    /// <see cref="FetchFailure.AccountLocked"/> naming the holder and the expiry.
    /// </summary>
    public IFetchStateStore OpenStore() => new PostgreSqlFetchStateStore(this, lease: null);

    /// <summary>A store whose account is already leased (a worker's claim).</summary>
    internal PostgreSqlFetchStateStore OpenLeasedStore(PostgreSqlLease lease) => new(this, lease);

    /// <summary>Runs a database operation, turning what Npgsql throws into <see cref="FetchException"/>s that say what failed and where.</summary>
    internal async Task<T> Run<T>(Func<Task<T>> operation, string doing)
    {
        try
        {
            return await operation().ConfigureAwait(false);
        }
        catch (Exception e) when (Translate(e, doing) is { } translated)
        {
            throw translated;
        }
    }

    internal async Task Run(Func<Task> operation, string doing) =>
        await Run(async () =>
        {
            await operation().ConfigureAwait(false);
            return true;
        }, doing).ConfigureAwait(false);

    /// <summary>The <see cref="FetchException"/> for a database failure, or null for exceptions that are not one.</summary>
    internal FetchException? Translate(Exception e, string doing) => e switch
    {
        FetchException => null,
        PostgresException { SqlState: SchemaMigrations.LeaseNotHeld } p =>
            new FetchException(FetchFailure.LeaseLost, $"cannot {doing}: {p.MessageText} (its lease expired or another worker took the account)", e),
        PostgresException { SqlState: PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification } p =>
            new FetchException(FetchFailure.State, $"cannot {doing} the fetch state in PostgreSQL ({Display}): {p.MessageText} — check the user and the password (PGPASSWORD or ~/.pgpass)", e),
        PostgresException { SqlState: PostgresErrorCodes.InvalidCatalogName } p =>
            new FetchException(FetchFailure.State, $"cannot {doing} the fetch state in PostgreSQL ({Display}): {p.MessageText} — create the database first (createdb)", e),
        PostgresException p => new FetchException(FetchFailure.State, $"cannot {doing} the fetch state in PostgreSQL ({Display}): {p.SqlState}: {p.MessageText}", e),
        NpgsqlException or TimeoutException or System.Net.Sockets.SocketException or IOException =>
            new FetchException(FetchFailure.State, $"cannot {doing} the fetch state in PostgreSQL ({Display}): {e.Message}", e),
        _ => null,
    };

    /// <summary>
    /// Whether <paramref name="e"/> (or what it wraps) says the database is away rather than refusing us: no connection (refused,
    /// reset, timed out), or the server shutting down or starting up (SQLSTATE class 57P: admin or crash shutdown, cannot
    /// connect now; class 08: connection exceptions). A refused password, missing privileges or a newer schema are not.
    /// </summary>
    internal static bool IsUnreachable(Exception e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            switch (inner)
            {
                case PostgresException p:
                    return p.SqlState.StartsWith("57P", StringComparison.Ordinal) || p.SqlState.StartsWith("08", StringComparison.Ordinal);
                case NpgsqlException or TimeoutException or System.Net.Sockets.SocketException or IOException:
                    return true;
            }
        }

        return false;
    }

    /// <summary>Closes the connection pool.</summary>
    public void Dispose() => _source.Dispose();

    /// <inheritdoc cref="Dispose"/>
    public ValueTask DisposeAsync() => _source.DisposeAsync();
}
