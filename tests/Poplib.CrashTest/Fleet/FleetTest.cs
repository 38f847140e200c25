using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json.Nodes;
using Poplib.Fetch.PostgreSql;
using Poplib.Fetch.PostgreSql.Accounts;
using Poplib.Testing;

namespace Poplib.CrashTest.Fleet;

/// <summary>
/// The fleet crash test: W worker processes share A accounts through a private PostgreSQL, while the harness SIGKILLs random
/// workers (restarting each), adds mail, restarts the database (pause, longer than a lease, resume) and freezes workers
/// mid-run (SIGSTOP past their lease, until another worker has taken the account over and fetched it; then SIGCONT). Then it
/// stops the workers with SIGTERM (each must exit 0), drains with fresh workers, and checks every account: each message
/// delivered exactly once and intact, the server holding what the policy says, every account run (no starvation), and for
/// each freeze that the frozen worker wrote nothing under its lost lease and removed nothing from the server after the take-over.
/// </summary>
internal sealed class FleetTest(CrashTestOptions options, FleetFlavour flavour, TextWriter output)
{
    private const string PasswordVariable = "POPLIB_FLEET_PASSWORD";
    private const int LeaseSeconds = 3;
    private const int Parallel = 3;
    private const int DovecotAccounts = 3;
    private const int SlowAccounts = 2;
    private const int FreezeMail = 50;

    private readonly Random _plan = new(options.Seed);
    private readonly MessageFactory _factory = new(options.Seed);
    private readonly List<string> _failures = [];
    private readonly List<string> _notes = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<FleetAccount> _accounts = [];
    private readonly List<WorkerProcess> _workers = [];
    private readonly HashSet<WorkerProcess> _frozen = [];
    private readonly SemaphoreSlim _chaosGate = new(1, 1);
    private readonly string _password = $"pw-{options.Seed}";
    private int _started;
    private int _kills;
    private int _freezes;
    private int _restarts;
    private int _arrived;
    private FleetPostgres _database = null!;
    private string _work = "";

    private string Schema => "poplib";

    public async Task<bool> RunAsync()
    {
        string name = flavour == FleetFlavour.Cli ? "cli" : "library";
        _work = Path.Combine(Path.GetTempPath(), $"poplib-fleet-{name}-{options.Seed}-{Environment.ProcessId}");
        if (Directory.Exists(_work))
            Directory.Delete(_work, recursive: true);
        Directory.CreateDirectory(_work);
        output.WriteLine($"work directory: {_work}{(options.KeepWork ? "" : " (removed if the test passes)")}");
        bool passed = false;
        try
        {
            passed = await RunInAsync(name);
        }
        catch (HarnessException e)
        {
            output.WriteLine("FAILED: " + e.Message);
            output.WriteLine($"fleet crash test ({name}, seed {options.Seed}): FAILED after {_kills} kills, {_freezes} freezes, {_restarts} database restarts (see above)");
        }
        finally
        {
            lock (_workers)
            {
                foreach (WorkerProcess worker in _workers)
                    worker.Dispose();
            }

            if (passed && !options.KeepWork)
                Directory.Delete(_work, recursive: true);
        }

        return passed;
    }

    private async Task<bool> RunInAsync(string name)
    {
        string cli = options.Cli ?? Repository.DefaultCli();
        if (!File.Exists(cli))
            throw new HarnessException($"no CLI at {cli} (build src/Poplib.Cli, or pass --cli)");
        using FleetPostgres database = FleetPostgres.Start();
        _database = database;
        var commands = new FleetCommands(cli, database, output);
        if (flavour == FleetFlavour.Cli)
            _failures.AddRange(await commands.CheckBadInputBeforeAsync());

        using DovecotLmtp? dovecot = flavour == FleetFlavour.Cli ? DovecotLmtp.Start(Repository.Root()) : null;
        await using Pop3TestServer server = await Pop3TestServer.StartAsync(new Pop3TestServerOptions { Tls = Pop3TlsMode.None, AllowPlaintextWithoutTls = true });
        // The freezes' server: slow replies, so that a run takes seconds; and a short idle timeout, so that a frozen worker's
        // session is closed (without its deletions) and another worker can log in, as a real server's timeouts would.
        await using Pop3TestServer slow = await Pop3TestServer.StartAsync(new Pop3TestServerOptions
        {
            Tls = Pop3TlsMode.None,
            AllowPlaintextWithoutTls = true,
            Faults = [new DelayReplies(TimeSpan.FromMilliseconds(15))],
            IdleTimeout = TimeSpan.FromSeconds(2),
            WriteTimeout = TimeSpan.FromSeconds(2), // a frozen client reads nothing: the server's write to it times out
        });
        CreateAccounts(server, slow, dovecot);
        output.WriteLine($"{_accounts.Count} accounts ({_accounts.Count(a => a.Policy == FetchPolicy.Keep)} keep, {_accounts.Count(a => a.Policy == FetchPolicy.Delete)} delete; " +
            $"{_accounts.Count(a => a.DovecotMaildir is not null)} on Dovecot, {_accounts.Count(a => a.Slow)} on a slow server), {_accounts.Sum(a => a.Sources.Count)} messages at the start");
        await SyncAccountsAsync(commands);

        for (int i = 0; i < options.Workers; i++)
            StartWorker(cli);
        output.WriteLine($"{options.Workers} workers ({(flavour == FleetFlavour.Cli ? "poplib fetch --daemon" : "PostgreSqlFetchWorker with a table sink")}), --lease {LeaseSeconds}s, {Parallel} accounts each at once");

        using var chaosStop = new CancellationTokenSource();
        Task chaos = ChaosAsync(cli, chaosStop.Token);
        await TimelineAsync(cli);
        while (Volatile.Read(ref _kills) < options.Kills && !chaos.IsCompleted)
            await Task.Delay(100);
        await chaosStop.CancelAsync();
        await chaos;

        await StopAllAsync("at the end of the kill phase");
        await DrainAsync(cli);
        Verdict verdict = Verify();

        if (flavour == FleetFlavour.Cli)
            _failures.AddRange(await commands.CheckNewerSchemaAsync(_accounts.First(a => a.Mailbox is not null && !a.Slow), AllDelivered));

        foreach (string note in _notes)
            output.WriteLine(note);
        foreach (string detail in verdict.Details)
            output.WriteLine(detail);
        foreach (string failure in _failures.Concat(verdict.Failures))
            output.WriteLine("FAILED: " + failure);
        output.WriteLine($"time: {_clock.Elapsed.TotalSeconds:F1} s");
        output.WriteLine($"fleet crash test ({name}, seed {options.Seed}): {_kills} kills, {_freezes} freezes, {_restarts} database restarts, " +
            $"{_accounts.Count} accounts, {_accounts.Sum(a => a.Sources.Count)} messages: {verdict.Lost} lost, {verdict.Duplicated} duplicated, {verdict.Corrupt} corrupt");
        return _failures.Count == 0 && verdict.Failures.Count == 0 && verdict.Lost == 0 && verdict.Duplicated == 0 && verdict.Corrupt == 0;
    }

    private void CreateAccounts(Pop3TestServer server, Pop3TestServer slow, DovecotLmtp? dovecot)
    {
        int dovecotCount = dovecot is null ? 0 : DovecotAccounts;
        int slowCount = options.Freezes > 0 ? SlowAccounts : 0;
        int plain = Math.Max(2, options.Accounts - dovecotCount - slowCount);
        int perAccount = Math.Max(1, options.Messages / options.Accounts);
        for (int i = 0; i < plain; i++)
        {
            var mailbox = new RecordingMailbox(new Pop3MemoryMailbox());
            var account = new FleetAccount($"a{i:000}", $"u{i:000}", server.Port, i % 2 == 0 ? FetchPolicy.Keep : FetchPolicy.Delete) { Mailbox = mailbox };
            server.AddUser(account.User, _password, mailbox);
            _accounts.Add(account);
            for (int m = 0; m < perAccount; m++)
                account.Add(_factory.Create(_factory.NextSize(0), 0));
        }

        for (int i = 0; i < slowCount; i++)
        {
            var mailbox = new RecordingMailbox(new Pop3MemoryMailbox());
            var account = new FleetAccount($"slow{i}", $"slow{i}", slow.Port, i % 2 == 0 ? FetchPolicy.Delete : FetchPolicy.Keep) { Mailbox = mailbox, Slow = true };
            slow.AddUser(account.User, _password, mailbox);
            _accounts.Add(account);
            AddSmallMail(account, perAccount);
        }

        for (int i = 0; i < dovecotCount; i++)
        {
            string user = $"fleet{i}x{Environment.ProcessId}";
            string source = Path.Combine(_work, "dovecot-src-" + user);
            Directory.CreateDirectory(source);
            var initial = new List<SourceMessage>();
            for (int m = 0; m < perAccount; m++)
            {
                SourceMessage message = _factory.Create(_factory.NextSize(0), 0);
                initial.Add(message);
                File.WriteAllBytes(Path.Combine(source, $"{m:0000}.eml"), FleetAccount.ToCrlf(message.Content));
            }

            var account = new FleetAccount($"dovecot{i}", user, dovecot!.Pop3Port, i == 0 ? FetchPolicy.Keep : FetchPolicy.Delete)
            {
                DovecotMaildir = dovecot.AddUser(user, _password, source),
            };
            account.Sources.AddRange(initial);
            _accounts.Add(account);
        }
    }

    /// <summary>Small messages for the slow accounts: their runs are long because of the server's delay, not the bytes.</summary>
    private void AddSmallMail(FleetAccount account, int count)
    {
        for (int i = 0; i < count; i++)
            account.Add(_factory.Create(200 + _plan.Next(2000), 0));
    }

    private JsonObject Definition(FleetAccount account)
    {
        var json = new JsonObject
        {
            ["name"] = account.Name,
            ["host"] = "127.0.0.1",
            ["port"] = account.Port,
            ["security"] = "none",
            ["allowInsecureAuth"] = true,
            ["user"] = account.User,
            ["password"] = new JsonObject { ["env"] = PasswordVariable },
            ["policy"] = account.Policy == FetchPolicy.Keep ? "keep" : "delete",
            ["interval"] = "1s",
        };
        if (flavour == FleetFlavour.Cli)
            json["maildir"] = MaildirOf(account);
        return json;
    }

    private string MaildirOf(FleetAccount account) => Path.Combine(_work, "maildirs", account.Name);

    private async Task SyncAccountsAsync(FleetCommands commands)
    {
        if (flavour == FleetFlavour.Cli)
        {
            string config = Path.Combine(_work, "fleet.json");
            await File.WriteAllTextAsync(config, new JsonObject { ["accounts"] = new JsonArray([.. _accounts.Select(a => (JsonNode)Definition(a))]) }.ToJsonString());
            await commands.SyncAsync(config);
        }
        else
        {
            await using PostgreSqlFetchDatabase opened = await PostgreSqlFetchDatabase.OpenAsync(new PostgreSqlFetchOptions
            {
                ConnectionString = _database.OwnerConnectionString + ";Password=" + _database.OwnerPassword,
            });
            opened.Accounts.Sync([.. _accounts.Select(a => FetchAccountDefinition.FromJson(a.Name, Definition(a).ToJsonString()))]);
            _database.Execute(TableSink.Schema);
        }

        var keys = _database.Query($"SELECT name, mailbox FROM {Schema}.accounts").ToDictionary(r => (string)r[0]!, r => (string)r[1]!, StringComparer.Ordinal);
        foreach (FleetAccount account in _accounts)
            account.Key = keys.TryGetValue(account.Name, out string? key) ? key : throw new HarnessException($"the sync stored no account {account.Name}");
    }

    private WorkerProcess StartWorker(string cli)
    {
        int number = Interlocked.Increment(ref _started);
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PGPASSWORD"] = _database.OwnerPassword,
            [PasswordVariable] = _password,
        };
        string[] arguments = flavour == FleetFlavour.Cli
            ? ["fetch", "--daemon", "--state", _database.OwnerUrl, "--parallel", Parallel.ToString(CultureInfo.InvariantCulture), "--lease", $"{LeaseSeconds}s"]
            : [FleetWorkerChild.Flag, _database.OwnerConnectionString, LeaseSeconds.ToString(CultureInfo.InvariantCulture), Parallel.ToString(CultureInfo.InvariantCulture)];
        WorkerProcess worker = flavour == FleetFlavour.Cli
            ? cli.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)
                ? WorkerProcess.Start(number, "dotnet", [cli, .. arguments], environment)
                : WorkerProcess.Start(number, cli, arguments, environment)
            : WorkerProcess.Start(number, "dotnet", [Assembly.GetEntryAssembly()!.Location, .. arguments], environment);
        lock (_workers)
            _workers.Add(worker);
        return worker;
    }

    /// <summary>Every 0.4–1 s: new mail for a few accounts, and a SIGKILL of a random worker (not a frozen one), which is replaced.</summary>
    private async Task ChaosAsync(string cli, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(400 + _plan.Next(600)), stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await _chaosGate.WaitAsync(CancellationToken.None);
            try
            {
                int arrivals = 1 + _plan.Next(4);
                for (int i = 0; i < arrivals; i++)
                {
                    FleetAccount account = _accounts[_plan.Next(_accounts.Count)];
                    if (account.Slow)
                        continue;
                    account.Add(_factory.Create(_factory.NextSize(0), 0));
                    _arrived++;
                }

                ReplaceExited(cli);
                WorkerProcess[] candidates;
                lock (_workers)
                    candidates = [.. _workers.Where(w => !_frozen.Contains(w))];
                if (candidates.Length == 0)
                    continue;
                WorkerProcess victim = candidates[_plan.Next(candidates.Length)];
                lock (_workers)
                    _workers.Remove(victim);
                int code = await victim.KillAsync();
                if (code == FetchChild.SigKillExitCode)
                    _kills++;
                else
                    _failures.Add($"worker {victim.Number} had exited {code} by itself before its kill; its output:\n{Tail(victim.Output)}");
                if (options.Verbose)
                    output.WriteLine($"{_clock.Elapsed.TotalSeconds,6:F1} s: kill {_kills}: worker {victim.Number} (pid {victim.Pid})");
                victim.Dispose();
                StartWorker(cli);
            }
            finally
            {
                _chaosGate.Release();
            }
        }
    }

    /// <summary>A worker that exited without being told to is a failure (it must ride out kills of others and outages); it is replaced.</summary>
    private void ReplaceExited(string cli)
    {
        WorkerProcess[] exited;
        lock (_workers)
            exited = [.. _workers.Where(w => w.HasExited)];
        foreach (WorkerProcess worker in exited)
        {
            _failures.Add($"worker {worker.Number} exited {worker.ExitCode} by itself; its output:\n{Tail(worker.Output)}");
            lock (_workers)
                _workers.Remove(worker);
            worker.Dispose();
            StartWorker(cli);
        }
    }

    /// <summary>The database restarts and the freezes, spread over the kill phase.</summary>
    private async Task TimelineAsync(string cli)
    {
        await Task.Delay(TimeSpan.FromSeconds(5));
        int restartsLeft = options.DatabaseRestarts;
        int freezesLeft = options.Freezes;
        int attempts = 0;
        while (restartsLeft > 0 || freezesLeft > 0)
        {
            // Restarts at the start and the middle of the freezes.
            bool restartNow = restartsLeft > 0 && (freezesLeft == 0 || (options.Freezes - freezesLeft) >= (options.DatabaseRestarts - restartsLeft) * Math.Max(1, options.Freezes / Math.Max(1, options.DatabaseRestarts)));
            if (restartNow)
            {
                await RestartDatabaseAsync(cli);
                restartsLeft--;
            }
            else if (++attempts > (2 * options.Freezes) + 5)
            {
                _failures.Add($"only {_freezes} of {options.Freezes} freezes caught a worker mid-run");
                break;
            }
            else if (await FreezeAsync())
            {
                freezesLeft--;
            }
        }
    }

    private async Task RestartDatabaseAsync(string cli)
    {
        await _chaosGate.WaitAsync();
        try
        {
            WorkerProcess[] workers;
            lock (_workers)
                workers = [.. _workers];
            // Workers that have opened the database: one still opening it when it goes away fails to start (exit 6), as any
            // program whose configured database is unreachable at its start.
            await Task.WhenAll(workers.Select(w => w.WaitStartedAsync(TimeSpan.FromSeconds(30))));
            var before = workers.ToDictionary(w => w, w => (w.UnreachableLines, w.BackLines));
            var clock = Stopwatch.StartNew();
            _database.Pause();
            if (flavour == FleetFlavour.Cli)
            {
                // A worker (re)started while the database is away must wait for it, not exit: one killed and replaced now.
                WorkerProcess victim = workers[_plan.Next(workers.Length)];
                lock (_workers)
                    _workers.Remove(victim);
                if (await victim.KillAsync() == FetchChild.SigKillExitCode)
                    _kills++;
                victim.Dispose();
                workers = [.. workers.Where(w => w != victim), StartWorker(cli)];
                before[workers[^1]] = (0, 0);
            }

            await Task.Delay(TimeSpan.FromSeconds(LeaseSeconds + 3)); // longer than a lease: every lease held now expires
            _database.Resume();
            TimeSpan down = clock.Elapsed;
            _restarts++;
            // Each worker must have noticed (a failed claim) and come back by itself, without exiting.
            while (clock.Elapsed < down + TimeSpan.FromSeconds(45)
                   && workers.Any(w => !w.HasExited && (w.UnreachableLines <= before[w].UnreachableLines || w.BackLines <= before[w].BackLines)))
                await Task.Delay(200);
            foreach (WorkerProcess worker in workers)
            {
                if (worker.HasExited)
                    _failures.Add($"database restart {_restarts}: worker {worker.Number} exited {worker.ExitCode}; its output:\n{Tail(worker.Output)}");
                else if (worker.UnreachableLines <= before[worker].UnreachableLines || worker.BackLines <= before[worker].BackLines)
                    _failures.Add($"database restart {_restarts}: worker {worker.Number} did not log the database away and back within 45 s; its output:\n{Tail(worker.Output)}");
            }

            int rode = workers.Count(w => !w.HasExited && w.UnreachableLines > before[w].UnreachableLines && w.BackLines > before[w].BackLines);
            _notes.Add($"database restart {_restarts}: down {down.TotalSeconds:F1} s; {rode} of {workers.Length} workers{(flavour == FleetFlavour.Cli ? " (one of them started while it was down)" : "")} logged it unreachable and back, " +
                $"the last {(clock.Elapsed - down).TotalSeconds:F1} s after it was up again");
        }
        finally
        {
            _chaosGate.Release();
        }
    }

    /// <summary>
    /// One freeze: new mail on a slow account, its run caught mid-session, its worker SIGSTOPped until another has taken the
    /// account over and finished a run of it, then SIGCONT; then the proofs that the frozen worker wrote and removed nothing
    /// after the take-over. False if no worker was caught mid-run (the caller tries again).
    /// </summary>
    private async Task<bool> FreezeAsync()
    {
        // No kills meanwhile: on this 2-core machine a worker killed every second rarely lives through a slow run, and the
        // freeze needs one worker caught mid-run and another that takes over and finishes.
        await _chaosGate.WaitAsync();
        try
        {
            return await FreezeOnceAsync();
        }
        finally
        {
            _chaosGate.Release();
        }
    }

    private async Task<bool> FreezeOnceAsync()
    {
        FleetAccount account = _accounts.Where(a => a.Slow).ElementAt(_freezes % SlowAccounts);
        RecordingMailbox mailbox = account.Mailbox!;
        int sessionsBefore = mailbox.Sessions;
        AddSmallMail(account, FreezeMail);
        _database.Execute($"UPDATE {Schema}.accounts SET next_run = now() WHERE name = @name", ("name", account.Name));

        // Caught: a lease on the account, and a session of its holder open for a moment (its download under way).
        var clock = Stopwatch.StartNew();
        WorkerProcess? frozen = null;
        long token = 0;
        int session = 0;
        DateTime frozenAt = default;
        while (frozen is null && clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(50);
            if (mailbox.Sessions <= sessionsBefore || mailbox.Events[^1].At > DateTime.UtcNow.AddMilliseconds(-400))
                continue;
            var lease = _database.Query($"SELECT owner, token FROM {Schema}.leases WHERE account = @key", ("key", account.Key));
            if (lease.Count == 0)
                continue;
            WorkerProcess? holder;
            lock (_workers)
                holder = _workers.FirstOrDefault(w => w.Owner == (string)lease[0][0]! && !w.HasExited);
            if (holder is null)
                continue;
            await holder.FreezeAsync();
            frozenAt = DateTime.UtcNow;
            session = mailbox.Sessions;
            token = (long)lease[0][1]!;
            lock (_workers)
                _frozen.Add(holder);
            frozen = holder;
        }

        if (frozen is null)
            return false;
        _freezes++;

        // Frozen: wait for the take-over (a new token) and a run of the account that started after it and ended.
        DateTime? takeover = null;
        clock.Restart();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(100);
            // A take-over refused [IN-USE] (the frozen session not yet closed by the server) waits out a back-off; an operator's nudge.
            _database.Execute($"UPDATE {Schema}.accounts SET next_run = now() WHERE name = @name AND next_run > now() + interval '2 seconds'", ("name", account.Name));
            if (takeover is null)
            {
                var lease = _database.Query($"SELECT token, acquired FROM {Schema}.leases WHERE account = @key", ("key", account.Key));
                if (lease.Count == 1 && (long)lease[0][0]! != token)
                    takeover = (DateTime)lease[0][1]!;
                continue;
            }

            // Fetched by another worker: a run that started after the take-over and succeeded (one refused [IN-USE] does not count).
            var run = _database.Query($"SELECT last_run_started, last_success FROM {Schema}.account_status WHERE name = @name", ("name", account.Name));
            if (run.Count == 1 && run[0][0] is DateTime started && started >= takeover.Value.AddMilliseconds(-50) && run[0][1] is DateTime succeeded && succeeded >= started
                && mailbox.Sessions > session)
                break;
        }

        TimeSpan frozenFor = DateTime.UtcNow - frozenAt;
        await frozen.ThawAsync();
        await Task.Delay(TimeSpan.FromSeconds(2)); // the thawed worker's chance to write or delete what it must not
        lock (_workers)
            _frozen.Remove(frozen);
        string what = $"freeze {_freezes} ({account.Name}, {account.Policy.ToString().ToLowerInvariant()}, worker {frozen.Number}, token {token}, session {session})";
        if (takeover is not { } takenAt)
        {
            _failures.Add($"{what}: no other worker took the account over in 60 s while its holder was frozen");
            return true;
        }

        if (frozenFor >= TimeSpan.FromSeconds(60))
            _failures.Add($"{what}: no other worker fetched the account within 60 s of the freeze");

        // The proofs: no state row written under the frozen token after the take-over; no QUIT of the frozen session removed
        // anything after the freeze; the account's last status not written by the frozen worker.
        long late = (long)_database.Query($"SELECT count(*) FROM {Schema}.messages WHERE account = @key AND lease_token = @token AND fetched_at > @at",
            ("key", account.Key), ("token", token), ("at", takenAt))[0][0]!;
        long written = (long)_database.Query($"SELECT count(*) FROM {Schema}.messages WHERE account = @key AND lease_token = @token",
            ("key", account.Key), ("token", token))[0][0]!;
        int lateDeletes = mailbox.Events.Where(e => e.Committed && e.Session == session && e.At > frozenAt).Sum(e => e.Deleted);
        // The frozen run's own end (its status, its lease's release) is fenced too: had it been recorded, the status would
        // describe a run that started before the freeze. A later run of the thawed worker, under a new lease, is fine.
        object?[] status = _database.Query($"SELECT last_owner, last_run_started, last_outcome, last_error FROM {Schema}.account_status WHERE name = @name", ("name", account.Name)).FirstOrDefault() ?? [null, null, null, null];
        if (status[1] is DateTime lastStarted && lastStarted < frozenAt)
            _failures.Add($"{what}: the account's status was written by the frozen run after the take-over (its run started at {lastStarted:HH:mm:ss.fff}, before the freeze)");
        if (late > 0)
            _failures.Add($"{what}: {late} state row(s) written under the frozen worker's token after the take-over at {takenAt:HH:mm:ss.fff}");
        if (lateDeletes > 0)
            _failures.Add($"{what}: the frozen session's QUIT removed {lateDeletes} message(s) from the server after the freeze");
        _notes.Add($"{what}: frozen {frozenFor.TotalSeconds:F1} s, taken over {(takenAt - frozenAt).TotalSeconds:F1} s after the freeze, " +
            $"then run by {status[0]} ({status[2]}{(status[3] is string error ? ": " + error : "")}); rows under the frozen token: {written}, after the take-over: {late}; " +
            $"deletions by the frozen session after the freeze: {lateDeletes}" +
            (late > 0 || lateDeletes > 0 ? $"; the server's logins (L) and QUITs that removed mail (Q): {string.Join(" ", mailbox.Events.Select(e => $"{(e.Committed ? "Q" : "L")}{e.Session}@{e.At:HH:mm:ss.f}"))}" : ""));
        return true;
    }

    private async Task StopAllAsync(string when)
    {
        WorkerProcess[] workers;
        lock (_workers)
        {
            workers = [.. _workers];
            _workers.Clear();
        }

        // A signal before the runtime has set its handlers ends any process with 143: only started workers get SIGTERM.
        await Task.WhenAll(workers.Select(w => w.WaitStartedAsync(TimeSpan.FromSeconds(30))));
        int[] codes = await Task.WhenAll(workers.Select(w => w.TerminateAsync()));
        for (int i = 0; i < workers.Length; i++)
        {
            if (codes[i] != 0)
                _failures.Add($"worker {workers[i].Number} exited {codes[i]} on SIGTERM {when} (0 expected); its output:\n{Tail(workers[i].Output)}");
            workers[i].Dispose();
        }

        _notes.Add($"SIGTERM {when}: {workers.Length} workers, exit codes {string.Join(", ", codes)}");
    }

    /// <summary>Fresh workers run until every message is delivered, the delete accounts' servers are empty and every account has succeeded.</summary>
    private async Task DrainAsync(string cli)
    {
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < Math.Min(2, options.Workers); i++)
            StartWorker(cli);
        bool drained = false;
        while (!drained && clock.Elapsed < TimeSpan.FromSeconds(120))
        {
            // Runs cut short by the kills wait out their back-off (30 s for the CLI); an operator's nudge brings them forward.
            _database.Execute($"UPDATE {Schema}.accounts SET next_run = now() WHERE next_run > now() + interval '2 seconds'");
            await Task.Delay(1000);
            drained = AllDelivered() && _database.Query($"SELECT count(*) FROM {Schema}.accounts a LEFT JOIN {Schema}.account_status s USING (name) WHERE s.last_success IS NULL")[0][0] is 0L;
        }

        _notes.Add($"drain: {(drained ? "complete" : "INCOMPLETE")} after {clock.Elapsed.TotalSeconds:F1} s");
        await StopAllAsync("after the drain");
    }

    private bool AllDelivered()
    {
        Dictionary<string, HashSet<string>> delivered = DeliveredHashes();
        return _accounts.All(a =>
            delivered.TryGetValue(a.Name, out HashSet<string>? hashes) && a.Sources.All(m => hashes.Contains(m.Hash))
            && (a.Policy == FetchPolicy.Keep || a.ServerHolds().Count == 0));
    }

    private Dictionary<string, HashSet<string>> DeliveredHashes() =>
        flavour == FleetFlavour.Cli
            ? _accounts.ToDictionary(a => a.Name, a => Destination(a).Scan().Select(i => i.Hash).ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal)
            : _database.Query($"SELECT account, digest FROM {TableSink.Table}").GroupBy(r => (string)r[0]!)
                .ToDictionary(g => g.Key, g => g.Select(r => (string)r[1]!).ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);

    private MaildirDestination Destination(FleetAccount account) => new(MaildirOf(account));

    /// <summary>Each account through the crash test's verifier, and what only a fleet has: starvation, stale commits, the sink's key.</summary>
    private Verdict Verify()
    {
        int lost = 0, duplicated = 0, corrupt = 0;
        var details = new List<string>();
        var failures = new List<string>();
        ILookup<string, DeliveredItem> rows = flavour == FleetFlavour.Library ? SinkRows(failures) : Enumerable.Empty<DeliveredItem>().ToLookup(_ => "");
        foreach (FleetAccount account in _accounts)
        {
            IReadOnlyList<DeliveredItem> items = flavour == FleetFlavour.Cli ? Destination(account).Scan() : [.. rows[account.Name]];
            string locks = flavour == FleetFlavour.Cli ? MaildirOf(account) : _work;
            Directory.CreateDirectory(locks);
            Verdict verdict = Verifier.Check(account.Sources, items, new RunLog(), account.ServerHolds(), account.Policy, locks, []);
            lost += verdict.Lost;
            duplicated += verdict.Duplicated;
            corrupt += verdict.Corrupt;
            details.AddRange(verdict.Details.Select(d => $"{account.Name}: {d}"));
            failures.AddRange(verdict.Failures.Select(f => $"{account.Name}: {f}"));
            if (account.Mailbox is { } mailbox)
                failures.AddRange(StaleCommits(account.Name, mailbox));
        }

        // No starvation: every account ran, and its last run succeeded at some point.
        var runs = _database.Query($"SELECT a.name, coalesce(s.runs, 0), s.last_success FROM {Schema}.accounts a LEFT JOIN {Schema}.account_status s USING (name)");
        foreach (object?[] row in runs.Where(r => r[1] is 0L || r[2] is null))
            failures.Add($"{row[0]}: starved: {row[1]} runs, last success {row[2] ?? "never"}");
        long[] counts = [.. runs.Select(r => (long)r[1]!).Order()];
        details.Add($"runs per account: min {counts[0]}, median {counts[counts.Length / 2]}, max {counts[^1]}; every account succeeded at least once: {runs.All(r => r[2] is not null)}");
        details.Add($"messages: {_accounts.Sum(a => a.Sources.Count)} ({_arrived} arrived during the run, {_freezes * FreezeMail} for the freezes); workers started: {_started}");
        return new Verdict(lost, duplicated, corrupt, details, failures);
    }

    /// <summary>The sink's table as delivered items; its stored digest must be the content's, and re-offers are counted.</summary>
    private ILookup<string, DeliveredItem> SinkRows(List<string> failures)
    {
        var rows = _database.Query($"SELECT account, key, digest, content FROM {TableSink.Table}");
        var items = new List<(string Account, DeliveredItem Item)>();
        foreach (object?[] row in rows)
        {
            var item = new DeliveredItem($"{TableSink.Table} ({row[0]}, {row[1]})", (byte[])row[3]!, null);
            if (!string.Equals(item.Hash, (string)row[2]!, StringComparison.Ordinal))
                failures.Add($"{item.Location}: the stored digest is not the content's");
            items.Add(((string)row[0]!, item));
        }

        long reoffers = (long)_database.Query($"SELECT count(*) FROM {TableSink.ReoffersTable}")[0][0]!;
        long keys = (long)_database.Query($"SELECT count(DISTINCT (account, key)) FROM {TableSink.ReoffersTable}")[0][0]!;
        _notes.Add($"sink: {rows.Count} rows; the unique key absorbed {reoffers} re-offer(s) of {keys} stored message(s)");
        return items.ToLookup(i => i.Account, i => i.Item, StringComparer.Ordinal);
    }

    /// <summary>A QUIT that removed messages must come from the latest session: the server's lock lets no older one live on.</summary>
    private static IEnumerable<string> StaleCommits(string name, RecordingMailbox mailbox)
    {
        int latest = 0;
        foreach (MailboxEvent e in mailbox.Events)
        {
            if (!e.Committed)
                latest = e.Session;
            else if (e.Session != latest)
                yield return $"{name}: session {e.Session} removed {e.Deleted} message(s) after session {latest} had logged in";
        }
    }

    private static string Tail(string text) =>
        string.Join('\n', text.TrimEnd('\n').Split('\n').TakeLast(30).Select(line => "    " + line));
}
