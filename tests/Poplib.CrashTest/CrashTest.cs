using System.Diagnostics;
using Poplib.Testing;

namespace Poplib.CrashTest;

/// <summary>
/// The crash test: serves generated mail from an in-process <see cref="Pop3TestServer"/>, runs
/// <c>poplib fetch</c> against it again and again and SIGKILLs it after a random delay (scaled to how
/// long an uninterrupted run takes, so kills land before, during and after the download) while new
/// mail keeps arriving, then lets it finish, and checks that every message arrived exactly once,
/// byte for byte, and that the server holds what the policy says.
/// </summary>
internal sealed class CrashTest(CrashTestOptions options, TextWriter output)
{
    private const string User = "crash";
    private const string PasswordVariable = "POPLIB_CRASH_PASSWORD";
    private const int FinalAttempts = 5;
    private const string EndPhase = "end";
    private static readonly int[] Batches = [1, 3, 16, 64];

    private readonly List<SourceMessage> _sources = [];
    private readonly RunLog _log = new();
    private readonly Random _plan = new(options.Seed);
    private readonly Random _reader = new(options.Seed ^ 0x5bd1e995);
    private readonly MessageFactory _factory = new(options.Seed);
    private readonly List<string> _failures = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private string _password = "";
    private DovecotLmtp? _dovecot;

    /// <summary>Runs the test and prints its verdict; true if nothing was lost, duplicated or corrupted.</summary>
    public async Task<bool> RunAsync()
    {
        string work = Path.Combine(Path.GetTempPath(), $"poplib-crash-{options.ModeName}-{options.PolicyName}-{options.Seed}-{Environment.ProcessId}");
        if (Directory.Exists(work))
            Directory.Delete(work, recursive: true);
        Directory.CreateDirectory(work);
        output.WriteLine($"work directory: {work}{(options.KeepWork ? "" : " (removed if the test passes)")}");
        bool passed = false;
        try
        {
            passed = await RunInAsync(work);
        }
        catch (HarnessException e)
        {
            output.WriteLine("FAILED: " + e.Message);
            foreach (string file in Directory.EnumerateFiles(work, "*.lock", SearchOption.AllDirectories))
                output.WriteLine($"lock file: {Path.GetRelativePath(work, file)} ({new FileInfo(file).Length} bytes)");
            output.WriteLine($"crash test ({options.ModeName}, {options.PolicyName}, seed {options.Seed}): FAILED after {_log.Kills} kills in {_log.Runs.Count} runs (see above)");
        }
        finally
        {
            if (passed && !options.KeepWork)
                Directory.Delete(work, recursive: true);
        }

        return passed;
    }

    private async Task<bool> RunInAsync(string work)
    {
        string cli = options.Cli ?? Repository.DefaultCli();
        if (!File.Exists(cli))
            throw new HarnessException($"no CLI at {cli} (build src/Poplib.Cli, or pass --cli)");
        _password = $"pw-{options.Seed}";
        using DovecotLmtp? dovecot = options.Mode == DeliveryMode.Lmtp ? DovecotLmtp.Start(Repository.Root()) : null;
        _dovecot = dovecot;
        var child = new FetchChild(cli, PasswordVariable, _password, options.ChildTimeout);

        await using Pop3TestServer server = await Pop3TestServer.StartAsync(new Pop3TestServerOptions
        {
            Tls = Pop3TlsMode.None,
            AllowPlaintextWithoutTls = true,
        });

        // The initial mail: log-uniform sizes, and a few of ~1 MB.
        var large = new HashSet<int>();
        for (int i = 0; i < Math.Max(1, options.Messages / 100); i++)
            large.Add(_plan.Next(options.Messages));
        for (int i = 0; i < options.Messages; i++)
            _sources.Add(_factory.Create(large.Contains(i) ? _factory.NextSize(1) : _factory.NextSize(0), addedBeforeRun: 1));

        Pop3MemoryMailbox mailbox = Pop3Mailbox.FromMessages(_sources.Select(m => m.Content));
        server.AddUser(User, _password, mailbox);
        output.WriteLine($"{options.Messages} messages, {_sources.Sum(m => (long)m.Content.Length):N0} bytes; cli: {cli}");

        Timing timing = await CalibrateAsync(server, child, work);
        output.WriteLine($"calibration: an uninterrupted run takes {timing.Full.TotalMilliseconds:F0} ms for all of it, {timing.Empty.TotalMilliseconds:F0} ms with nothing new");

        Destination destination = Destination.Create(options.Mode, work, _dovecot);
        string state = Path.Combine(work, "state.sqlite");
        IReadOnlyList<string> BaseArguments(int? batch)
        {
            var arguments = new List<string>
            {
                "fetch", "--host", "127.0.0.1", "--port", server.Port.ToString(), "--user", User,
                "--password-env", PasswordVariable, "--allow-insecure-auth",
            };
            arguments.AddRange(destination.FetchArguments);
            arguments.Add(options.Policy == FetchPolicy.Keep ? "--keep" : "--delete");
            arguments.AddRange(["--state", state]);
            if (batch is { } n)
                arguments.AddRange(["--batch", n.ToString()]);
            arguments.Add("--quiet");
            if (options.Daemon)
                arguments.AddRange(["--daemon", "--interval", "1s"]);
            return arguments;
        }

        // The kill phase: at least K kills of a running child.
        int runs = 0;
        int maxRuns = (options.Kills * 4) + 20;
        while (_log.Kills < options.Kills)
        {
            if (runs >= maxRuns)
                throw new HarnessException($"only {_log.Kills} kills in {runs} runs: the child keeps finishing before its kill");
            runs++;
            // New mail in most runs, so that most runs have something to download when killed.
            double arrival = _plan.NextDouble();
            if (runs > 1 && arrival < 0.6)
                AddMail(mailbox, runs, arrival < 0.05 ? 10 + _plan.Next(20) : 1 + _plan.Next(4));
            if (destination is MaildirDestination maildir && _reader.NextDouble() < 0.2)
                _log.Moved(maildir.MoveToCur(_reader, 1 + _reader.Next(3)));

            int batch = Batches[_plan.Next(Batches.Length)];
            long backlog = Backlog();
            TimeSpan estimate = timing.Estimate(backlog);
            KillPlan plan = DrawKill(timing.Estimate(0), estimate, _plan.NextDouble(), _plan.NextDouble());
            // A daemon: most kills count from the moment its first cycle opens a session (so they land in the download,
            // mid-group, or around its end, as for a single run); the others from the start, 0-2 whole cycles later.
            bool fromSession = false;
            if (options.Daemon)
            {
                fromSession = _plan.NextDouble() < 0.75;
                plan = fromSession
                    ? plan with { Delay = TimeSpan.FromMilliseconds(_plan.NextDouble() * 1.2 * Math.Max(estimate.TotalMilliseconds - timing.Estimate(0).TotalMilliseconds, 50)) }
                    : plan with { Delay = plan.Delay + TimeSpan.FromSeconds(_plan.Next(3)) };
            }

            await WaitIdleAsync(server);
            ChildOutcome outcome = await child.RunAsync(BaseArguments(batch), plan.Delay, () => server.ActiveSessions > 0,
                killClockStartsWhen: fromSession ? () => server.ActiveSessions > 0 : null);
            RunRecord record = _log.Record(runs, batch, plan, outcome, destination.Scan(), destination.Leftovers(), _sources);
            if (options.Verbose)
                output.WriteLine(record.Describe());
            if (outcome.TimedOut)
                throw new HarnessException($"run {runs} still running after {options.ChildTimeout.TotalSeconds:F0} s; its output:\n{outcome.Output}");
            if (!outcome.Killed && outcome.ExitCode == 0)
                timing.Observe(backlog, outcome.Elapsed);
            else if (outcome.Killed && plan.Phase == EndPhase)
                timing.Missed(); // meant to land around the end, but the run was not near it yet
            else if (!outcome.Killed)
                Suspicious($"run {runs} (batch {batch}) exited {outcome.ExitCode} on its own; its output:\n{Indent(outcome.Output)}");
        }

        // The finish: no more kills and no more mail; it must complete.
        bool completed = false;
        for (int attempt = 1; attempt <= FinalAttempts && !completed; attempt++)
        {
            runs++;
            int batch = Batches[_plan.Next(Batches.Length)];
            await WaitIdleAsync(server);
            ChildOutcome outcome = await child.RunAsync(BaseArguments(batch), killAfter: null,
                terminateWhen: options.Daemon ? elapsed => elapsed > TimeSpan.FromSeconds(2) && server.ActiveSessions == 0 && AllDelivered(destination, mailbox) : null);
            RunRecord record = _log.Record(runs, batch, null, outcome, destination.Scan(), destination.Leftovers(), _sources);
            if (options.Verbose)
                output.WriteLine(record.Describe());
            if (outcome.TimedOut)
                throw new HarnessException($"final run {runs} still running after {options.ChildTimeout.TotalSeconds:F0} s; its output:\n{outcome.Output}");
            completed = outcome.ExitCode == 0;
            if (!completed)
                Suspicious($"final run {runs} (attempt {attempt}) exited {outcome.ExitCode}; its output:\n{Indent(outcome.Output)}");
        }

        if (!completed)
            _failures.Add($"the child did not complete (exit 0) in {FinalAttempts} runs without kills");
        else
        {
            // Once more: a run after a complete one has nothing to do and must not deliver anything.
            runs++;
            await WaitIdleAsync(server);
            ChildOutcome outcome = await child.RunAsync(BaseArguments(null), killAfter: null,
                terminateWhen: options.Daemon ? elapsed => elapsed > TimeSpan.FromSeconds(3) && server.ActiveSessions == 0 : null);
            RunRecord record = _log.Record(runs, 0, null, outcome, destination.Scan(), destination.Leftovers(), _sources);
            if (options.Verbose)
                output.WriteLine(record.Describe());
            if (outcome.ExitCode != 0)
                _failures.Add($"run {runs}, after a complete one, exited {outcome.ExitCode}; its output:\n{Indent(outcome.Output)}");
            if (record.NewItems > 0)
                _failures.Add($"run {runs}, after a complete one, delivered {record.NewItems} more");
        }

        await WaitIdleAsync(server);
        var verdict = Verifier.Check(_sources, destination.Scan(), _log, mailbox.Messages, options.Policy, work, destination.DotLocks, lmtpWindow: options.Mode == DeliveryMode.Lmtp);
        _failures.AddRange(verdict.Failures);
        if (options.Kills >= 10 && _log.InSessionKills == 0)
            _failures.Add("no kill landed during a POP3 session with mail to fetch: the delays are off, the test proves little");

        output.WriteLine(_log.KillSummary());
        foreach (string detail in verdict.Details)
            output.WriteLine(detail);
        foreach (string failure in _failures)
            output.WriteLine("FAILED: " + failure);
        output.WriteLine($"time: {_clock.Elapsed.TotalSeconds:F1} s");
        output.WriteLine(
            $"crash test ({options.ModeName}, {options.PolicyName}, seed {options.Seed}): {_log.Kills} kills, {_sources.Count} messages: " +
            (options.Mode == DeliveryMode.Lmtp
                ? $"{verdict.Lost} lost, {verdict.WindowDuplicated} duplicated (LMTP window){(verdict.Duplicated > 0 ? $", {verdict.Duplicated} duplicated OUTSIDE it" : "")}, {verdict.Corrupt} corrupt"
                : $"{verdict.Lost} lost, {verdict.Duplicated} duplicated, {verdict.Corrupt} corrupt"));
        return _failures.Count == 0 && verdict.Lost == 0 && verdict.Duplicated == 0 && verdict.Corrupt == 0;
    }

    /// <summary>
    /// Uninterrupted runs on a copy of the initial mail, into a scratch destination: how long one
    /// takes for all of it, and (the faster of two) with nothing new. Also proves the child works at all.
    /// </summary>
    private async Task<Timing> CalibrateAsync(Pop3TestServer server, FetchChild child, string work)
    {
        string directory = Path.Combine(work, "calibration");
        Directory.CreateDirectory(directory);
        server.AddUser("calibrate", _password, Pop3Mailbox.FromMessages(_sources.Select(m => m.Content)));
        Destination destination = Destination.Create(options.Mode, directory, _dovecot);
        string[] arguments =
        [
            "fetch", "--host", "127.0.0.1", "--port", server.Port.ToString(), "--user", "calibrate",
            "--password-env", PasswordVariable, "--allow-insecure-auth", .. destination.FetchArguments,
            options.Policy == FetchPolicy.Keep ? "--keep" : "--delete", "--state", Path.Combine(directory, "state.sqlite"), "--quiet",
        ];

        ChildOutcome full = await child.RunAsync(arguments, killAfter: null);
        if (full.ExitCode != 0)
            throw new HarnessException($"calibration: the child exited {full.ExitCode}; its output:\n{full.Output}");
        int delivered = destination.Scan().Select(i => i.Hash).Intersect(_sources.Select(m => m.Hash)).Count();
        if (delivered != _sources.Count)
            throw new HarnessException($"calibration: the child exited 0 but delivered {delivered} of {_sources.Count} messages");
        TimeSpan empty = TimeSpan.MaxValue;
        for (int i = 0; i < 2; i++)
        {
            await WaitIdleAsync(server);
            ChildOutcome again = await child.RunAsync(arguments, killAfter: null);
            if (again.ExitCode != 0)
                throw new HarnessException($"calibration: a run with nothing new exited {again.ExitCode}; its output:\n{again.Output}");
            empty = again.Elapsed < empty ? again.Elapsed : empty;
        }

        Directory.Delete(directory, recursive: true);
        return new Timing(full.Elapsed, empty, _sources.Sum(m => (long)m.Content.Length));
    }

    /// <summary>
    /// The kill. A run is start-up (the runtime, connect, login, listing, opening the state: about
    /// ¾ of a run with nothing new), then the download, then the end (the last group's commit, DELE,
    /// QUIT, exit). 15 % of kills land in the start-up, 60 % spread over the download (mid-message,
    /// mid-group, between a group's delivery and its state commit), 25 % around the end (some of these
    /// runs finish first).
    /// </summary>
    private static KillPlan DrawKill(TimeSpan startup, TimeSpan estimate, double phase, double position)
    {
        double s = startup.TotalMilliseconds;
        double e = Math.Max(estimate.TotalMilliseconds, s);
        double download = e - s;
        (double ms, string name) = phase switch
        {
            < 0.15 => (position * 0.75 * s, "start-up"),
            < 0.75 => ((0.75 * s) + ((download + (0.25 * s)) * position), "download"),
            _ => (e * (0.85 + (0.4 * position)), EndPhase),
        };
        return new KillPlan(TimeSpan.FromMilliseconds(ms), name, TimeSpan.FromMilliseconds(e));
    }

    /// <summary>For the daemon's finish (SIGTERM only after 2 s: a signal before the runtime has set its handlers ends any process with 143): every source message is in the destination, and (delete) none is left on the server.</summary>
    private bool AllDelivered(Destination destination, Pop3MemoryMailbox mailbox)
    {
        var delivered = destination.Scan().Select(i => i.Hash).ToHashSet(StringComparer.Ordinal);
        return _sources.All(m => delivered.Contains(m.Hash)) && (options.Policy == FetchPolicy.Keep || mailbox.Count == 0);
    }

    private void AddMail(Pop3MemoryMailbox mailbox, int run, int count)
    {
        for (int i = 0; i < count; i++)
        {
            SourceMessage message = _factory.Create(_factory.NextSize(50), run);
            _sources.Add(message);
            mailbox.Add(message.Content);
        }
    }

    /// <summary>The bytes of the messages not yet delivered (what the next run has to download), as of the last run.</summary>
    private long Backlog() => _sources.Where(m => !_log.DeliveredHashes.Contains(m.Hash)).Sum(m => (long)m.Content.Length);

    /// <summary>Waits until the server has closed every session (a killed child's too), so no login meets [IN-USE].</summary>
    private static async Task WaitIdleAsync(Pop3TestServer server)
    {
        var clock = Stopwatch.StartNew();
        while (server.ActiveSessions > 0)
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(10))
                throw new HarnessException($"the server still has {server.ActiveSessions} session(s) 10 s after the child ended");
            await Task.Delay(5);
        }
    }

    private void Suspicious(string text)
    {
        _log.Suspicious++;
        output.WriteLine("note: " + text);
    }

    private static string Indent(string text) =>
        string.Join('\n', text.TrimEnd('\n').Split('\n').Select(line => "    " + line));
}

/// <summary>The harness cannot go on (the child or the setup failed, not a verdict on the mail).</summary>
internal sealed class HarnessException(string message) : Exception(message);

/// <summary>How long an uninterrupted run takes: start-up and login, plus the download at a measured rate.</summary>
internal sealed class Timing(TimeSpan full, TimeSpan empty, long bytes)
{
    private readonly double _bytesPerMs = bytes / Math.Max(full.TotalMilliseconds - empty.TotalMilliseconds, 50);
    private double _correction = 1;

    public TimeSpan Full { get; } = full;

    public TimeSpan Empty { get; } = empty;

    public TimeSpan Estimate(long backlog) => TimeSpan.FromMilliseconds(Predict(backlog) * _correction);

    /// <summary>A kill aimed at the end of a run came before it: the runs take longer than estimated.</summary>
    public void Missed() => _correction = Math.Min(_correction * 1.15, 4);

    /// <summary>Learns from a run that finished on its own.</summary>
    public void Observe(long backlog, TimeSpan elapsed) =>
        _correction = Math.Clamp((0.7 * _correction) + (0.3 * elapsed.TotalMilliseconds / Predict(backlog)), 0.25, 4);

    private double Predict(long backlog) => Empty.TotalMilliseconds + (backlog / _bytesPerMs);
}
