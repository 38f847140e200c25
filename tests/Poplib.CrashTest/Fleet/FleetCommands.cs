namespace Poplib.CrashTest.Fleet;

/// <summary>
/// <c>poplib fetch</c> run once against the fleet's database: the account sync, and the bad inputs a fleet's operator meets —
/// each must fail with its exit code and a message that says what to do, never showing a password, and fetch nothing.
/// </summary>
internal sealed class FleetCommands(string cli, FleetPostgres database, TextWriter output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public async Task SyncAsync(string config)
    {
        ChildOutcome outcome = await Run(database.OwnerPassword, ["fetch", "--config", config, "--state", database.OwnerUrl, "--sync-accounts"]);
        if (outcome.ExitCode != 0)
            throw new HarnessException($"--sync-accounts exited {outcome.ExitCode}: {outcome.Output}");
        output.WriteLine("sync: " + outcome.Output.Trim().Split('\n')[^1]);
    }

    /// <summary>Before the schema exists: a malformed URL with a password in it, a refused password, the reader role that may not create the schema.</summary>
    public async Task<List<string>> CheckBadInputBeforeAsync()
    {
        var failures = new List<string>();
        string secret = "Sekrit" + Guid.NewGuid().ToString("N")[..8];
        ChildOutcome malformed = await Run(database.OwnerPassword, ["fetch", "--status", "--state", $"postgres://poplib_owner:{secret}@{database.Host}:notaport/{database.Database}"]);
        Expect(failures, "a malformed connection string", malformed, 78, [], secret);

        string wrong = "wrong-" + Guid.NewGuid().ToString("N")[..8];
        ChildOutcome refused = await Run(wrong, ["fetch", "--status", "--state", database.OwnerUrl]);
        Expect(failures, "a refused password", refused, 6, ["PGPASSWORD"], wrong);

        ChildOutcome reader = await Run(database.ReaderPassword, ["fetch", "--daemon", "--state", database.ReaderUrl]);
        Expect(failures, "the reader role without the schema", reader, 6, ["GRANT", "owner"], database.ReaderPassword);
        if (database.Query("SELECT to_regnamespace('poplib') IS NULL")[0][0] is not true)
            failures.Add("the reader role without the schema: a schema poplib exists after its attempt");
        return failures;
    }

    /// <summary>After the run: a schema of a newer version (99). The worker must refuse it, change nothing and fetch nothing.</summary>
    public async Task<List<string>> CheckNewerSchemaAsync(FleetAccount account, Func<bool> allDelivered)
    {
        var failures = new List<string>();
        SourceMessage bait = new MessageFactory(Environment.ProcessId).Create(500, 0);
        account.Add(bait);
        database.Execute("UPDATE poplib.accounts SET next_run = now()");
        database.Execute("INSERT INTO poplib.schema_version(version) VALUES (99)");
        string Snapshot() => string.Join(", ", database.Query(
            "SELECT (SELECT count(*) FROM poplib.schema_version), (SELECT count(*) FROM poplib.messages), (SELECT sum(runs) FROM poplib.account_status), (SELECT count(*) FROM poplib.leases)")[0]);
        string before = Snapshot();
        ChildOutcome newer = await Run(database.OwnerPassword, ["fetch", "--daemon", "--state", database.OwnerUrl]);
        Expect(failures, "a schema of version 99", newer, 6, ["newer", "nothing was changed"], database.OwnerPassword);
        string after = Snapshot();
        if (after != before)
            failures.Add($"a schema of version 99: the database changed (schema versions, messages, runs, leases: {before} before, {after} after)");
        if (allDelivered() || !account.ServerHolds().Any(m => m.AsSpan().SequenceEqual(bait.Content)))
            failures.Add("a schema of version 99: the new message was fetched");
        account.Sources.Remove(bait); // not part of the verdict, which is done
        return failures;
    }

    private void Expect(List<string> failures, string what, ChildOutcome outcome, int exitCode, string[] mentions, string secret)
    {
        string message = outcome.Output.Trim();
        output.WriteLine($"bad input, {what}: exit {outcome.ExitCode}: {message.Split('\n')[0]}");
        if (outcome.ExitCode != exitCode)
            failures.Add($"{what}: exit {outcome.ExitCode}, not {exitCode}; output:\n{message}");
        foreach (string mention in mentions.Where(m => !message.Contains(m, StringComparison.OrdinalIgnoreCase)))
            failures.Add($"{what}: the message does not mention \"{mention}\": {message}");
        if (message.Contains(secret, StringComparison.Ordinal))
            failures.Add($"{what}: the password shows in the output: {message}");
    }

    private Task<ChildOutcome> Run(string pgPassword, string[] arguments) =>
        new FetchChild(cli, "PGPASSWORD", pgPassword, Timeout).RunAsync(arguments, killAfter: null);
}
