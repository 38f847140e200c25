using System.Text;
using Poplib.Cli;
using Poplib.Cli.Fetch;
using Poplib.Fetch.Scheduling;

namespace Poplib.Tests.Cli.Fetch;

/// <summary>
/// <c>poplib fetch</c> on a machine shared with other users: nothing it writes may be read by them,
/// nothing they can write may steer it (state, locks, config), and no program it starts may learn a
/// password.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class FetchLocalAttackerTests
{
    private const int Nobody = 65534;

    [Fact]
    public async Task The_delivery_spool_never_has_a_name_and_is_private_whatever_the_umask()
    {
        await using FetchWorld world = await FetchWorld.StartAsync([FetchWorld.Message(1), FetchWorld.Message(2), FetchWorld.Message(3)]);
        string spool = Directory.CreateDirectory(Path.Combine(world.Folder, "tmp")).FullName;
        string report = Path.Combine(world.Folder, "modes.txt");
        // The delivery command looks at its parent's open files: the spool it is fed from is among them.
        string mda = $"cat >/dev/null; for f in /proc/$PPID/fd/*; do case \"$(readlink \"$f\")\" in '{spool}'/*) stat -L -c %a \"$f\" >> '{report}';; esac; done";
        using var watcher = new NameWatcher(spool);

        CliProcess.Outcome outcome = await CliProcess.RunAsync(
            [.. world.ConnectionArgs(), "--state", world.State, "--mda", mda, "--quiet"],
            umask: "000", environment: new Dictionary<string, string> { [FetchWorld.PasswordVariable] = FetchWorld.Password, ["TMPDIR"] = spool, ["DOTNET_EnableDiagnostics"] = "0" });

        Assert.True(outcome.ExitCode == 0, outcome.Error);
        string[] modes = File.ReadAllLines(report); // each delivery sees the group's open spools
        Assert.True(modes.Length >= 3, string.Join(",", modes));
        Assert.All(modes, mode => Assert.Equal("600", mode));
        Assert.Empty(watcher.Created); // nothing another user's inotify could see and open
        Assert.Empty(Directory.GetFileSystemEntries(spool));
    }

    [Fact]
    public async Task The_mbox_spool_never_has_a_name_in_the_mbox_folder()
    {
        await using FetchWorld world = await FetchWorld.StartAsync([FetchWorld.Message(1), FetchWorld.Message(2)]);
        using var watcher = new NameWatcher(world.Folder);
        CliRunner.Outcome outcome = await world.FetchAsync("--mbox", world.Mbox, "--batch", "1");
        Assert.True(outcome.ExitCode == 0, outcome.Error);
        Assert.Equal(2, world.MboxMessages().Count);
        Assert.DoesNotContain(watcher.Created, name => name.Contains("spool", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Every_file_and_folder_fetch_creates_is_private_under_umask_000()
    {
        await using FetchWorld world = await FetchWorld.StartAsync([FetchWorld.Message(1), FetchWorld.Message(2)]);
        var environment = new Dictionary<string, string> { [FetchWorld.PasswordVariable] = FetchWorld.Password };
        string[] connection = world.ConnectionArgs();
        CliProcess.Outcome maildir = await CliProcess.RunAsync([.. connection, "--state", world.State, "--maildir", world.Maildir, "--quiet"], "000", environment);
        Assert.True(maildir.ExitCode == 0, maildir.Error);
        string other = Path.Combine(world.Folder, "state2", "fetch.sqlite");
        CliProcess.Outcome mbox = await CliProcess.RunAsync([.. connection, "--state", other, "--mbox", world.Mbox, "--quiet"], "000", environment);
        Assert.True(mbox.ExitCode == 0, mbox.Error);

        string stateFolder = Path.GetDirectoryName(world.State)!;
        string[] folders = [world.Maildir, .. new[] { "tmp", "new", "cur" }.Select(s => Path.Combine(world.Maildir, s)), stateFolder, Path.Combine(stateFolder, "locks")];
        foreach (string folder in folders)
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(folder));
        Assert.Equal(2, Directory.GetFiles(Path.Combine(world.Maildir, "new")).Length);
        Assert.Single(Directory.GetFiles(Path.Combine(stateFolder, "locks")));
        string[] files = [.. Directory.GetFiles(Path.Combine(world.Maildir, "new")), .. Directory.GetFiles(stateFolder), .. Directory.GetFiles(Path.Combine(stateFolder, "locks")), world.Mbox];
        Assert.All(files, f => Assert.True(File.GetUnixFileMode(f) == (UnixFileMode.UserRead | UnixFileMode.UserWrite), $"{f} is {File.GetUnixFileMode(f)}"));
    }

    [Fact]
    public async Task A_state_written_before_poplib_made_it_private_is_made_private()
    {
        await using FetchWorld world = await FetchWorld.StartAsync([FetchWorld.Message(1)]);
        Assert.Equal(0, (await world.FetchAsync("--maildir", world.Maildir)).ExitCode);
        File.SetUnixFileMode(world.State, (UnixFileMode)0b110_100_100); // 0644, as older versions left it
        Assert.Equal(0, (await world.FetchAsync("--maildir", world.Maildir)).ExitCode);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(world.State));
    }

    [Fact]
    public async Task A_planted_link_in_place_of_the_lock_is_refused_and_its_target_left_alone()
    {
        await using FetchWorld world = await FetchWorld.StartAsync([FetchWorld.Message(1)]);
        string victim = Path.Combine(world.Folder, "victim.txt");
        File.WriteAllText(victim, "precious\n");
        File.SetUnixFileMode(victim, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        string lockFile = AccountLock.PathFor(world.State, $"{FetchWorld.User}@127.0.0.1:{world.Server.Port}");
        Directory.CreateDirectory(Path.GetDirectoryName(lockFile)!, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.CreateSymbolicLink(lockFile, victim);

        CliRunner.Outcome outcome = await world.FetchAsync("--maildir", world.Maildir, "--delete");
        Assert.Equal(ExitCodes.LocalIo, outcome.ExitCode);
        Assert.Contains("symbolic link", outcome.Error);
        Assert.Equal("precious\n", File.ReadAllText(victim));
        Assert.Equal(1, world.Memory.Count);
    }

    [Fact]
    public async Task A_hard_link_in_place_of_the_lock_is_refused()
    {
        await using FetchWorld world = await FetchWorld.StartAsync([FetchWorld.Message(1)]);
        string victim = Path.Combine(world.Folder, "victim.txt");
        File.WriteAllText(victim, "precious\n");
        string lockFile = AccountLock.PathFor(world.State, $"{FetchWorld.User}@127.0.0.1:{world.Server.Port}");
        Directory.CreateDirectory(Path.GetDirectoryName(lockFile)!, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Run("ln", victim, lockFile);

        CliRunner.Outcome outcome = await world.FetchAsync("--maildir", world.Maildir);
        Assert.Equal(ExitCodes.LocalIo, outcome.ExitCode);
        Assert.Contains("single name", outcome.Error);
        Assert.Equal("precious\n", File.ReadAllText(victim));
    }

    [Fact]
    public async Task A_state_others_can_write_is_refused_so_it_cannot_make_delete_remove_unread_mail()
    {
        await using FetchWorld world = await FetchWorld.StartAsync([FetchWorld.Message(1), FetchWorld.Message(2)]);
        Assert.Equal(0, (await world.FetchAsync("--maildir", world.Maildir)).ExitCode);
        // Another user could now have written "delivered" rows for mail never downloaded.
        File.SetUnixFileMode(world.State, (UnixFileMode)0b110_110_110);

        CliRunner.Outcome outcome = await world.FetchAsync("--maildir", Path.Combine(world.Folder, "elsewhere"), "--delete");
        Assert.Equal(ExitCodes.LocalIo, outcome.ExitCode);
        Assert.Contains($"chmod go-w {world.State}", outcome.Error);
        Assert.Equal(2, world.Memory.Count);
    }

    [Fact]
    public async Task A_state_folder_others_can_write_is_refused()
    {
        await using FetchWorld world = await FetchWorld.StartAsync([FetchWorld.Message(1)]);
        string shared = Path.Combine(world.Folder, "shared");
        Directory.CreateDirectory(shared);
        File.SetUnixFileMode(shared, (UnixFileMode)0b111_111_111); // 0777, no sticky bit
        CliRunner.Outcome outcome = await FetchWithStateIn(world, shared);
        Assert.Equal(ExitCodes.LocalIo, outcome.ExitCode);
        Assert.Contains($"chmod go-w {shared}", outcome.Error);
        Assert.False(File.Exists(Path.Combine(shared, "fetch.sqlite")));
        Assert.Equal(1, world.Memory.Count);
    }

    [RootFact]
    public async Task A_state_folder_of_another_user_is_refused_with_the_chown_to_run()
    {
        await using FetchWorld world = await FetchWorld.StartAsync([FetchWorld.Message(1)]);
        string theirs = Path.Combine(world.Folder, "theirs");
        Directory.CreateDirectory(theirs);
        Chown(theirs, Nobody);
        CliRunner.Outcome outcome = await FetchWithStateIn(world, theirs);
        Assert.Equal(ExitCodes.LocalIo, outcome.ExitCode);
        Assert.Contains($"chown {Environment.UserName} {theirs}", outcome.Error);
        Assert.Equal(1, world.Memory.Count);
    }

    [RootFact]
    public async Task A_group_writable_state_folder_is_accepted_only_when_the_group_is_the_users_own()
    {
        await using FetchWorld world = await FetchWorld.StartAsync([FetchWorld.Message(1)]);
        string folder = Path.Combine(world.Folder, "upg");
        Directory.CreateDirectory(folder);
        File.SetUnixFileMode(folder, (UnixFileMode)0b111_111_000); // 0770, as umask 002 leaves it
        Run("chown", "root:root", folder); // root's own group: nobody else in it
        CliRunner.Outcome own = await FetchWithStateIn(world, folder);
        Assert.True(own.ExitCode == 0, own.Error);

        Run("chown", "root:users", folder); // a group others may belong to
        CliRunner.Outcome shared = await FetchWithStateIn(world, folder);
        Assert.Equal(ExitCodes.LocalIo, shared.ExitCode);
        Assert.Contains($"chmod go-w {folder}", shared.Error);
    }

    [Fact]
    public async Task A_config_others_can_write_is_refused_before_any_command_in_it_runs()
    {
        await using FetchWorld world = await FetchWorld.StartAsync([FetchWorld.Message(1)]);
        string marker = Path.Combine(world.Folder, "password-command-ran");
        string config = WriteConfig(world, $"\"password\": {{ \"command\": \"touch '{marker}'; echo {FetchWorld.Password}\" }}");
        File.SetUnixFileMode(config, (UnixFileMode)0b110_110_110); // 0666

        CliRunner.Outcome outcome = await CliRunner.RunAsync("fetch", "--config", config);
        Assert.Equal(ExitCodes.Config, outcome.ExitCode);
        Assert.Contains($"chmod go-w {config}", outcome.Error);
        Assert.False(File.Exists(marker));
        Assert.Equal(1, world.Memory.Count);
    }

    [RootFact]
    public async Task A_config_of_another_user_is_refused()
    {
        await using FetchWorld world = await FetchWorld.StartAsync([FetchWorld.Message(1)]);
        string marker = Path.Combine(world.Folder, "password-command-ran");
        string config = WriteConfig(world, $"\"password\": {{ \"command\": \"touch '{marker}'; echo {FetchWorld.Password}\" }}");
        Chown(config, Nobody);

        CliRunner.Outcome outcome = await CliRunner.RunAsync("fetch", "--config", config);
        Assert.Equal(ExitCodes.Config, outcome.ExitCode);
        Assert.Contains("belongs to nobody", outcome.Error);
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public async Task A_config_in_a_folder_others_can_write_is_refused()
    {
        await using FetchWorld world = await FetchWorld.StartAsync([FetchWorld.Message(1)]);
        string shared = Path.Combine(world.Folder, "shared");
        Directory.CreateDirectory(shared);
        File.SetUnixFileMode(shared, (UnixFileMode)0b111_111_111);
        string config = WriteConfig(world, $"\"password\": {{ \"env\": \"{FetchWorld.PasswordVariable}\" }}", shared);

        CliRunner.Outcome outcome = await CliRunner.RunAsync("fetch", "--config", config);
        Assert.Equal(ExitCodes.Config, outcome.ExitCode);
        Assert.Contains($"chmod go-w {shared}", outcome.Error);
    }

    [Fact]
    public async Task No_delivery_command_sees_any_accounts_password()
    {
        await using FetchWorld world = await FetchWorld.StartAsync([FetchWorld.Message(1)]);
        world.Server.AddUser("bob", "bob-secret", Testing.Pop3Mailbox.FromMessages([FetchWorld.Message(2)]));
        Environment.SetEnvironmentVariable("POPLIB_TEST_PW_BOB", "bob-secret");
        string inbox = Directory.CreateDirectory(Path.Combine(world.Folder, "mda")).FullName;
        string mda = $"cat >/dev/null; env > '{inbox}'/\"env-$POPLIB_ACCOUNT\".txt";
        string config = WriteConfig(world, $"\"password\": {{ \"env\": \"{FetchWorld.PasswordVariable}\" }}", accounts: $$"""
            { "name": "alice", "mda": "{{mda.Replace("\"", "\\\"")}}" },
            { "name": "bob", "user": "bob", "password": { "env": "POPLIB_TEST_PW_BOB" }, "mda": "{{mda.Replace("\"", "\\\"")}}" },
            """);

        CliRunner.Outcome outcome = await CliRunner.RunAsync("fetch", "--config", config);
        Assert.True(outcome.ExitCode == 0, outcome.Error);
        string[] environments = Directory.GetFiles(inbox, "env-*");
        Assert.Equal(2, environments.Length);
        foreach (string file in environments)
        {
            string env = File.ReadAllText(file);
            Assert.Contains("POPLIB_ACCOUNT=", env); // the command did run with our environment
            foreach (string secret in new[] { FetchWorld.PasswordVariable, "POPLIB_TEST_PW_BOB", FetchWorld.Password, "bob-secret" })
                Assert.DoesNotContain(secret, env);
        }
    }

    [Fact]
    public async Task A_password_command_does_not_see_other_accounts_passwords()
    {
        await using FetchWorld world = await FetchWorld.StartAsync([FetchWorld.Message(1)]);
        world.Server.AddUser("bob", "bob-secret", Testing.Pop3Mailbox.FromMessages([FetchWorld.Message(2)]));
        Environment.SetEnvironmentVariable("POPLIB_TEST_PW_BOB", "bob-secret");
        string seen = Path.Combine(world.Folder, "password-command-env.txt");
        string config = WriteConfig(world, $"\"password\": {{ \"env\": \"{FetchWorld.PasswordVariable}\" }}", accounts: $$"""
            { "name": "alice", "maildir": "a" },
            { "name": "bob", "user": "bob", "password": { "command": "env > '{{seen}}'; echo bob-secret" }, "maildir": "b" },
            """);

        CliRunner.Outcome outcome = await CliRunner.RunAsync("fetch", "--config", config);
        Assert.True(outcome.ExitCode == 0, outcome.Error);
        Assert.DoesNotContain(FetchWorld.PasswordVariable, File.ReadAllText(seen));
        Assert.DoesNotContain(FetchWorld.Password, File.ReadAllText(seen));
    }

    private static Task<CliRunner.Outcome> FetchWithStateIn(FetchWorld world, string folder) =>
        CliRunner.RunAsync([.. world.ConnectionArgs(), "--state", Path.Combine(folder, "fetch.sqlite"), "--maildir", world.Maildir]);

    private static string WriteConfig(FetchWorld world, string password, string? folder = null, string? accounts = null)
    {
        folder ??= world.Folder;
        accounts ??= """{ "name": "one", "maildir": "mail" },""";
        string path = Path.Combine(folder, "fetch.json");
        File.WriteAllText(path, $$"""
            {
              "state": "{{world.State}}",
              "defaults": { "host": "127.0.0.1", "port": {{world.Server.Port}}, "security": "none", "allowInsecureAuth": true, "user": "{{FetchWorld.User}}", "auth": "user", {{password}} },
              "accounts": [ {{accounts}} ],
            }
            """);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }

    private static void Chown(string path, int user) => Run("chown", $"{user}:{user}", path);

    private static void Run(string tool, params string[] arguments)
    {
        using var process = System.Diagnostics.Process.Start(tool, arguments);
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
    }

    /// <summary>Records every name created in a folder while it watches (inotify's IN_CREATE, as an attacker would watch).</summary>
    private sealed class NameWatcher : IDisposable
    {
        private readonly FileSystemWatcher _watcher;
        private readonly List<string> _created = [];

        public NameWatcher(string folder)
        {
            _watcher = new FileSystemWatcher(folder) { IncludeSubdirectories = true, EnableRaisingEvents = true };
            _watcher.Created += (_, e) =>
            {
                lock (_created)
                    _created.Add(e.Name ?? "");
            };
        }

        public IReadOnlyList<string> Created
        {
            get
            {
                Thread.Sleep(200); // inotify events arrive asynchronously
                lock (_created)
                    return [.. _created];
            }
        }

        public void Dispose() => _watcher.Dispose();
    }
}
