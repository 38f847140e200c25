using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Poplib.Cli;
using Poplib.Tests.Infrastructure;
using static Poplib.Tests.Cli.Fetch.DaemonProcess;

namespace Poplib.Tests.Cli.Fetch;

/// <summary><c>poplib fetch --daemon</c> as a real process: new mail between intervals, SIGHUP reloads, SIGTERM exits 0; <c>--status</c>.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class FetchDaemonCliTests
{
    [Fact]
    public async Task The_daemon_fetches_new_mail_reloads_on_SIGHUP_and_exits_0_on_SIGTERM()
    {
        await using FetchWorld one = await FetchWorld.StartAsync([FetchWorld.Message(1), FetchWorld.Message(2)]);
        await using FetchWorld two = await FetchWorld.StartAsync([FetchWorld.Message(3)]);
        string config = Path.Combine(one.Folder, "poplib.json");
        string Account(string name, FetchWorld world) =>
            $$"""{ "name": "{{name}}", "host": "127.0.0.1", "port": {{world.Server.Port}}, "maildir": "{{name}}" }""";
        void WriteConfig(params string[] accounts)
        {
            string temporary = config + ".new";
            File.WriteAllText(temporary, $$"""
                {
                  "state": "state/fetch.sqlite",
                  "defaults": { "security": "none", "allowInsecureAuth": true, "user": "alice", "password": { "env": "{{FetchWorld.PasswordVariable}}" }, "auth": "user" },
                  "accounts": [ {{string.Join(", ", accounts)}} ]
                }
                """);
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.Move(temporary, config, overwrite: true);
        }

        int Delivered(string name) => Directory.Exists(Path.Combine(one.Folder, name, "new")) ? Directory.GetFiles(Path.Combine(one.Folder, name, "new")).Length : 0;

        WriteConfig(Account("one", one));
        using Process daemon = Start(["fetch", "--daemon", "--interval", "1s", "--config", config]);
        Func<string> log = CaptureOutput(daemon);
        try
        {
            await Until(() => Delivered("one") == 2, "the first fetch", log);
            one.Memory.Add(FetchWorld.Message(4));
            await Until(() => Delivered("one") == 3, "the mail that arrived between intervals", log);

            WriteConfig(Account("one", one), Account("two", two));
            Signal(daemon, "HUP");
            await Until(() => Delivered("two") == 1, "the account added by SIGHUP", log);

            // A broken config: reported, and the accounts keep running.
            File.WriteAllText(config, "{ not json");
            Signal(daemon, "HUP");
            await Until(() => log().Contains("Reload failed", StringComparison.Ordinal), "the broken config reported", log);
            one.Memory.Add(FetchWorld.Message(5));
            await Until(() => Delivered("one") == 4, "fetching after the broken reload", log);
            WriteConfig(Account("one", one), Account("two", two));

            CliProcess.Outcome status = await CliProcess.RunAsync(["fetch", "--status", "--json", "--config", config]);
            Assert.Equal(0, status.ExitCode);
            using JsonDocument json = JsonDocument.Parse(status.Out);
            JsonElement[] accounts = [.. json.RootElement.GetProperty("accounts").EnumerateArray()];
            Assert.Equal(["one", "two"], accounts.Select(a => a.GetProperty("name").GetString()));
            Assert.All(accounts, a => Assert.Equal(JsonValueKind.String, a.GetProperty("lastSuccess").ValueKind));
            Assert.All(accounts, a => Assert.Equal(0, a.GetProperty("consecutiveFailures").GetInt32()));

            var stopping = Stopwatch.StartNew();
            Signal(daemon, "TERM");
            Assert.True(daemon.WaitForExit(TimeSpan.FromSeconds(15)), "no exit 15 s after SIGTERM: " + log());
            Assert.Equal(0, daemon.ExitCode);
            Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(10), $"took {stopping.Elapsed} to stop");
        }
        finally
        {
            if (!daemon.HasExited)
                daemon.Kill(entireProcessTree: true);
        }

        // One line per run per account, not per message.
        Assert.Contains("one", log(), StringComparison.Ordinal);
        Assert.Equal(4, Delivered("one"));
        Assert.Equal(1, Delivered("two"));
    }

    [Theory]
    [InlineData(new[] { "fetch", "--daemon", "--limit", "3", "--host", "h", "--user", "u", "--maildir", "m" }, "--limit cannot be combined with --daemon")]
    [InlineData(new[] { "fetch", "--daemon", "--json", "--host", "h", "--user", "u", "--maildir", "m" }, "--json cannot be combined with --daemon")]
    [InlineData(new[] { "fetch", "--interval", "5m", "--host", "h", "--user", "u", "--maildir", "m" }, "--interval needs --daemon")]
    [InlineData(new[] { "fetch", "--daemon", "--interval", "soon", "--host", "h", "--user", "u", "--maildir", "m" }, "--interval: not a duration")]
    [InlineData(new[] { "fetch", "--daemon", "--host", "h", "--maildir", "m" }, "no user")]
    public async Task Daemon_usage_errors_say_what_is_wrong(string[] args, string message)
    {
        CliRunner.Outcome outcome = await CliRunner.RunAsync(args);
        Assert.Equal(ExitCodes.Usage, outcome.ExitCode);
        Assert.Contains(message, outcome.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_state_the_daemon_cannot_use_is_an_error_before_it_starts()
    {
        string folder = Path.Combine(Path.GetTempPath(), "poplib-daemon-state-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        File.SetUnixFileMode(folder, (UnixFileMode)0x1FF); // 0777: anyone could rewrite what --delete removes
        try
        {
            CliProcess.Outcome outcome = await CliProcess.RunAsync(
                ["fetch", "--daemon", "--host", "127.0.0.1", "--port", "1", "--user", "u", "--password-env", "HOME", "--maildir", Path.Combine(folder, "m"),
                 "--state", Path.Combine(folder, "s.sqlite")]);
            Assert.NotEqual(0, outcome.ExitCode);
            Assert.Contains(folder, outcome.Error, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Status_without_a_state_says_nothing_is_recorded()
    {
        string folder = Path.Combine(Path.GetTempPath(), "poplib-status-" + Guid.NewGuid().ToString("N")[..8]);
        CliRunner.Outcome outcome = await CliRunner.RunAsync("fetch", "--status", "--state", Path.Combine(folder, "none.sqlite"));
        Assert.Equal(0, outcome.ExitCode);
        Assert.Contains("No account status recorded", outcome.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Started_by_systemd_the_daemon_reports_ready_and_stopping_on_the_notify_socket_and_logs_with_priorities()
    {
        await using FetchWorld world = await FetchWorld.StartAsync([FetchWorld.Message(1)]);
        // systemd's Type=notify, without systemd: the host takes itself for a systemd service when its
        // parent process is called "systemd", and reports to the datagram socket NOTIFY_SOCKET names.
        string launcher = Path.Combine(world.Folder, "systemd");
        File.Copy("/bin/sh", launcher);
        string notifyPath = Path.Combine(world.Folder, "notify");
        using var notify = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Unspecified);
        notify.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(notifyPath));

        var start = new ProcessStartInfo(launcher) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        // Not "exec": the shell must stay the daemon's parent.
        foreach (string argument in new[] { "-c", "\"$0\" \"$@\"; exit $?", Path.Combine(AppContext.BaseDirectory, "Poplib.Cli"),
                     "fetch", "--daemon", "--interval", "1s", "--host", "127.0.0.1", "--port", world.Server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "--user", "alice", "--password-env", FetchWorld.PasswordVariable, "--auth", "user", "--allow-insecure-auth",
                     "--maildir", world.Maildir, "--state", Path.Combine(world.Folder, "state", "fetch.sqlite") })
            start.ArgumentList.Add(argument);
        start.Environment[FetchWorld.PasswordVariable] = FetchWorld.Password;
        start.Environment["NOTIFY_SOCKET"] = notifyPath;
        using Process shell = Process.Start(start)!;
        shell.StandardInput.Close();
        var log = new StringBuilder();
        shell.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        shell.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        shell.BeginOutputReadLine();
        shell.BeginErrorReadLine();
        string Log() { lock (log) return log.ToString(); }
        var received = new List<string>();
        async Task Expect(string state)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            byte[] buffer = new byte[4096];
            while (!received.Any(r => r.Split('\n').Contains(state)))
            {
                try
                {
                    int n = await notify.ReceiveAsync(buffer, System.Net.Sockets.SocketFlags.None, timeout.Token);
                    received.Add(Encoding.UTF8.GetString(buffer, 0, n));
                }
                catch (OperationCanceledException)
                {
                    throw new TimeoutException($"no {state} on NOTIFY_SOCKET; received [{string.Join(" | ", received)}]; the daemon said:\n{Log()}");
                }
            }
        }

        try
        {
            await Expect("READY=1");
            await Until(() => world.MaildirMessages().Count == 1, "the first fetch", Log);
            int daemonPid = int.Parse(File.ReadAllText($"/proc/{shell.Id}/task/{shell.Id}/children").Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
            using (Process kill = Process.Start("kill", ["-TERM", daemonPid.ToString(System.Globalization.CultureInfo.InvariantCulture)])!)
                kill.WaitForExit();
            await Expect("STOPPING=1");
            Assert.True(shell.WaitForExit(TimeSpan.FromSeconds(15)), "no exit 15 s after SIGTERM: " + Log());
            Assert.Equal(0, shell.ExitCode);
        }
        finally
        {
            if (!shell.HasExited)
                shell.Kill(entireProcessTree: true);
        }

        // The journal's priority prefixes: <6> is Information (the run's line).
        Assert.Contains("<6>", Log(), StringComparison.Ordinal);
    }

    [PostgresFact]
    public async Task A_fleet_worker_started_while_its_database_is_down_waits_for_it_then_runs_and_exits_0_on_SIGTERM()
    {
        // Its own server: pausing the shared one would take it from the other tests.
        using PostgresInstance server = PostgresInstance.Start();
        string url = $"postgres://{server.OwnerUser}@{server.Host}:{server.Port}/{server.Database}";
        server.Pause();
        using Process worker = Start(["fetch", "--daemon", "--state", url, "--lease", "3s"], new Dictionary<string, string> { ["PGPASSWORD"] = server.OwnerPassword });
        var log = new StringBuilder();
        void Collect(object sender, DataReceivedEventArgs e)
        {
            lock (log)
                log.Append(e.Data).Append('\n');
        }

        worker.OutputDataReceived += Collect;
        worker.ErrorDataReceived += Collect;
        worker.BeginOutputReadLine();
        worker.BeginErrorReadLine();
        string Log()
        {
            lock (log)
                return log.ToString();
        }

        try
        {
            await Until(() => Log().Contains("The database is unreachable", StringComparison.Ordinal), "the outage logged", Log);
            await Task.Delay(TimeSpan.FromSeconds(2));
            Assert.False(worker.HasExited, "the worker exited while its database was down: " + Log());

            server.Resume();
            await Until(() => Log().Contains(" is back", StringComparison.Ordinal) && Log().Contains("Fetch worker ", StringComparison.Ordinal), "the worker's start", Log);
            Signal(worker, "TERM");
            Assert.True(worker.WaitForExit(TimeSpan.FromSeconds(15)), "no exit 15 s after SIGTERM: " + Log());
            Assert.Equal(0, worker.ExitCode);
            Assert.DoesNotContain(server.OwnerPassword, Log(), StringComparison.Ordinal);
        }
        finally
        {
            if (!worker.HasExited)
                worker.Kill();
        }
    }

    [PostgresFact]
    public async Task A_fleet_worker_whose_password_is_refused_exits_6_at_once()
    {
        using PostgresInstance server = PostgresInstance.Start();
        string url = $"postgres://{server.OwnerUser}@{server.Host}:{server.Port}/{server.Database}";
        using Process worker = Start(["fetch", "--daemon", "--state", url], new Dictionary<string, string> { ["PGPASSWORD"] = "not-the-password" });
        Task<string> error = worker.StandardError.ReadToEndAsync();
        Assert.True(worker.WaitForExit(TimeSpan.FromSeconds(30)), "the worker waits for a database that refuses its password");
        Assert.Equal(ExitCodes.LocalIo, worker.ExitCode);
        Assert.Contains("PGPASSWORD", await error, StringComparison.Ordinal);
    }
}
