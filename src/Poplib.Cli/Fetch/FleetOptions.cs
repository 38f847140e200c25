using System.CommandLine;
using System.Text.Json;
using Poplib.Cli.Fetch.Config;
using Poplib.Fetch;
using Poplib.Fetch.Configuration;
using Poplib.Fetch.PostgreSql;
using Poplib.Fetch.PostgreSql.Accounts;

namespace Poplib.Cli.Fetch;

/// <summary>
/// The options of <c>fetch</c> for a fleet on PostgreSQL: <c>--sync-accounts</c> (the config file's accounts into the
/// database), the worker form (<c>--daemon</c> with a PostgreSQL <c>--state</c> and no <c>--config</c>), and <c>--lease</c>.
/// </summary>
internal static class FleetOptions
{
    /// <summary>The <c>--lease</c> duration, or null if not given.</summary>
    public static TimeSpan? Lease(string? text)
    {
        if (text is null)
            return null;
        return DurationParser.TryParse(text, out TimeSpan lease) && lease >= TimeSpan.FromSeconds(2) && lease <= TimeSpan.FromHours(1)
            ? lease : throw new CliException(ExitCodes.Usage, $"--lease: not a duration from 2s to 1h: {text}");
    }

    /// <summary>The worker form: <c>--daemon</c>, a PostgreSQL <c>--state</c>, no <c>--config</c> — the state's URL; else null.</summary>
    public static string? WorkerState(ParseResult result, Option<bool> daemon, Option<string?> config, Option<string?> statePath) =>
        result.GetValue(daemon) && result.GetValue(config) is null && result.GetValue(statePath) is { } state && PostgreSqlConnectionString.IsUrl(state)
            ? state : null;

    /// <summary>Refuses options that belong to accounts: a worker runs the database's accounts as they are stored.</summary>
    public static void RefuseForWorker(ParseResult result, Option[] options)
    {
        foreach (Option option in options)
        {
            if (result.GetResult(option) is { Implicit: false })
                throw new CliException(ExitCodes.Usage, $"{option.Name} cannot be given to a worker (--daemon with a PostgreSQL --state and no --config): it runs the accounts stored in the database; change them in the config file and run --sync-accounts");
        }
    }

    /// <summary><c>--sync-accounts</c>: the config file's accounts into the database's table; prints what changed.</summary>
    public static int Sync(ParseResult result, Option<string?> config, Option<string?> statePath, TimeSpan? lease, Option[] incompatible, CliConsole console, int debugLevel)
    {
        foreach (Option option in incompatible)
        {
            if (result.GetResult(option) is { Implicit: false })
                throw new CliException(ExitCodes.Usage, $"{option.Name} cannot be combined with --sync-accounts, which only stores the config file's accounts");
        }

        string file = result.GetValue(config) ?? throw new CliException(ExitCodes.Usage, "--sync-accounts needs --config FILE (the accounts to store)");
        FetchConfig loaded = FetchConfig.Load(file, console, debugLevel); // every check a config gets, before anything is stored
        using StateLocation state = StateLocation.From(result.GetValue(statePath), loaded.StatePath, lease);
        if (!state.IsPostgreSql)
            throw new CliException(ExitCodes.Usage, "--sync-accounts stores accounts in a PostgreSQL --state (postgres://USER@HOST/DB); a SQLite state has no account table");
        List<FetchAccountDefinition> definitions = Definitions(Path.GetFullPath(FetchConfig.ExpandHome(file)));
        FetchAccountSyncResult changed = state.Database.Accounts.Sync(definitions);
        console.Out.WriteLine($"{definitions.Count} account(s) in {state.Display}: {changed.Added} added, {changed.Updated} updated, {changed.Unchanged} unchanged, {changed.Removed} removed");
        return ExitCodes.Ok;
    }

    /// <summary>
    /// The config file's accounts as the database stores them: defaults merged in, paths made absolute, and passwords only
    /// as <c>{"env": …}</c> or <c>{"file": …}</c> — a secret itself, or a command, is not put in a database that every
    /// worker reads.
    /// </summary>
    private static List<FetchAccountDefinition> Definitions(string file)
    {
        string folder = Path.GetDirectoryName(file)!;
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(file), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, MaxDepth = 16 });
        JsonElement root = document.RootElement;
        FetchAccountOptions? defaults = root.TryGetProperty("defaults", out JsonElement d) ? Read(d, "defaults") : null;
        var definitions = new List<FetchAccountDefinition>();
        int index = 0;
        foreach (JsonElement element in root.GetProperty("accounts").EnumerateArray())
        {
            index++;
            FetchAccountOptions account = Read(element, $"account #{index}").Over(defaults);
            string name = account.Name ?? $"account #{index}";
            string? Absolute(string? path) => path is null ? null : Path.GetFullPath(FetchAccountOptions.ExpandHome(path), folder);
            account.Maildir = Absolute(account.Maildir);
            account.Mbox = Absolute(account.Mbox);
            account.CaFile = Absolute(account.CaFile);
            if (account.Password?.File is { } secretFile)
                account.Password.File = Absolute(secretFile);
            definitions.Add(new FetchAccountDefinition(name, account));
        }

        return definitions;
    }

    private static FetchAccountOptions Read(JsonElement element, string where)
    {
        if (element.TryGetProperty("password", out JsonElement password)
            && (password.ValueKind != JsonValueKind.Object || password.EnumerateObject().Any(p => p.Name is not ("env" or "file"))))
        {
            throw new CliException(ExitCodes.Config, $"{where}: --sync-accounts stores a password only as {{\"env\": \"VAR\"}} or {{\"file\": \"/path\"}}, read by each worker on its own machine; " +
                "not the password itself nor a command, which the database would hand to every worker");
        }

        // Sign-ins live in each machine's token folder, not in the database (docs/fleet.md): a worker could not log such an account in.
        if (element.TryGetProperty("oauth2", out _))
        {
            throw new CliException(ExitCodes.Config, $"{where}: --sync-accounts cannot hand an OAuth 2.0 account to the fleet: its sign-in is a file on this machine, " +
                "not in the database; run it with 'poplib fetch --daemon --config' on the machine where 'poplib oauth login' stored it");
        }

        try
        {
            return element.Deserialize(DefinitionJson.Default.FetchAccountOptions) ?? throw new JsonException("null");
        }
        catch (JsonException e)
        {
            throw new CliException(ExitCodes.Config, $"{where}: {e.Message}", e);
        }
    }
}
