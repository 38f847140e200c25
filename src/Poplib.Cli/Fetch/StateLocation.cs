using Poplib.Cli.Fetch.Config;
using Poplib.Fetch.PostgreSql;
using Poplib.Fetch.State;

namespace Poplib.Cli.Fetch;

/// <summary>
/// Where <c>fetch</c> keeps its state: a SQLite file (the default), or a PostgreSQL database given as a
/// <c>postgres://</c> URL (shared by several workers). Opens the database once, on first use, and the store each run needs.
/// </summary>
internal sealed class StateLocation : IDisposable
{
    private readonly TimeSpan? _lease;
    private PostgreSqlFetchDatabase? _database;

    private StateLocation(string value, bool postgreSql, TimeSpan? lease)
    {
        Value = value;
        IsPostgreSql = postgreSql;
        _lease = lease;
    }

    /// <summary>The file's full path, or the URL as given.</summary>
    public string Value { get; }

    public bool IsPostgreSql { get; }

    /// <summary>For messages: the path, or the URL without its password.</summary>
    public string Display => IsPostgreSql ? PostgreSqlConnectionString.Masked(Value) : Value;

    /// <summary><c>--state</c> if given, else the config's <c>state</c>, else the default file.</summary>
    public static StateLocation From(string? option, string? configState, TimeSpan? lease = null)
    {
        if (option is not null && PostgreSqlConnectionString.IsUrl(option))
            return new StateLocation(option, postgreSql: true, lease);
        if (option is not null)
            return new StateLocation(Path.GetFullPath(FetchConfig.ExpandHome(option)), postgreSql: false, lease);
        if (configState is not null)
            return new StateLocation(configState, PostgreSqlConnectionString.IsUrl(configState), lease);
        return new StateLocation(SqliteFetchStateStore.DefaultPath, postgreSql: false, lease);
    }

    /// <summary>The PostgreSQL database (opened, its schema created or upgraded, on first use).</summary>
    public PostgreSqlFetchDatabase Database
    {
        get
        {
            if (!IsPostgreSql)
                throw new InvalidOperationException("The state is a SQLite file.");
            return _database ??= PostgreSqlFetchDatabase.Open(new PostgreSqlFetchOptions
            {
                ConnectionString = Value,
                Schema = PostgreSqlConnectionString.SchemaOf(Value) ?? "poplib",
                LeaseDuration = _lease ?? TimeSpan.FromMinutes(1),
            });
        }
    }

    /// <summary>A store for one run (throws <see cref="Poplib.Fetch.FetchException"/> if the state cannot be opened).</summary>
    public IFetchStateStore OpenStore() => IsPostgreSql ? Database.OpenStore() : SqliteFetchStateStore.Open(Value);

    /// <summary>Opens the state once, so that one that cannot be used is an error before anything starts.</summary>
    public void Check() => OpenStore().Dispose();

    /// <summary>The accounts' recorded statuses (none if a SQLite file does not exist yet).</summary>
    public IReadOnlyList<StoredAccountStatus> LoadStatuses()
    {
        if (IsPostgreSql)
            return Database.Accounts.GetStatus();
        if (!File.Exists(Value))
            return [];
        using SqliteFetchStateStore state = SqliteFetchStateStore.Open(Value);
        return state.LoadAccountStatuses();
    }

    public void Dispose() => _database?.Dispose();
}
