using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Poplib.Cli;
using Poplib.Testing;

namespace Poplib.Tests.Cli.Fetch;

/// <summary><c>poplib fetch</c> end to end against the in-process server: policies, destinations, faults.</summary>
public class FetchTests
{
    private static byte[][] Messages(int count, int first = 1) => [.. Enumerable.Range(first, count).Select(n => FetchWorld.Message(n))];

    [Fact]
    public async Task Keep_mode_fetches_only_new_mail_across_runs_byte_exact()
    {
        byte[][] first = [FetchWorld.Tricky(1), .. Messages(4, 2)];
        await using FetchWorld world = await FetchWorld.StartAsync(first);

        CliRunner.Outcome run1 = await world.FetchAsync("--maildir", world.Maildir);
        Assert.True(run1.ExitCode == 0, run1.Error);
        Assert.Equal(FetchWorld.Describe(first), FetchWorld.Describe(world.MaildirMessages()));

        byte[][] later = Messages(3, 10);
        foreach (byte[] message in later)
            world.Memory.Add(message);
        CliRunner.Outcome run2 = await world.FetchAsync("--maildir", world.Maildir);
        Assert.True(run2.ExitCode == 0, run2.Error);
        Assert.Contains("8 message(s) on the server, 3 to fetch", run2.Out);
        Assert.Equal(FetchWorld.Describe([.. first, .. later]), FetchWorld.Describe(world.MaildirMessages()));
        Assert.Equal(8, world.Memory.Count); // keep: nothing deleted

        CliRunner.Outcome run3 = await world.FetchAsync("--maildir", world.Maildir);
        Assert.Equal(0, run3.ExitCode);
        Assert.Equal(8, world.MaildirMessages().Count);
        Assert.Empty(Directory.GetFiles(Path.Combine(world.Maildir, "tmp")));
    }

    [Fact]
    public async Task Delete_mode_removes_exactly_the_delivered_messages()
    {
        byte[][] messages = Messages(5);
        await using FetchWorld world = await FetchWorld.StartAsync(messages);

        CliRunner.Outcome partial = await world.FetchAsync("--maildir", world.Maildir, "--delete", "--limit", "3");
        Assert.True(partial.ExitCode == 0, partial.Error);
        Assert.Equal(FetchWorld.Describe(messages.Take(3)), FetchWorld.Describe(world.MaildirMessages()));
        Assert.Equal(FetchWorld.Describe(messages.Skip(3)), FetchWorld.Describe(world.Memory.Messages.Select(CrlfToLf)));

        CliRunner.Outcome rest = await world.FetchAsync("--maildir", world.Maildir, "--delete");
        Assert.True(rest.ExitCode == 0, rest.Error);
        Assert.Equal(0, world.Memory.Count);
        Assert.Equal(FetchWorld.Describe(messages), FetchWorld.Describe(world.MaildirMessages()));
    }

    [Fact]
    public async Task Mbox_is_mboxrd_and_round_trips_byte_exact()
    {
        byte[][] messages = [FetchWorld.Tricky(1), FetchWorld.Message(2, "From me\n"), FetchWorld.Tricky(3)];
        await using FetchWorld world = await FetchWorld.StartAsync(messages);
        // Someone else's mail already in the file, without a final blank line: it must stay intact.
        byte[] foreign = Encoding.ASCII.GetBytes("From someone Mon Nov 23 10:00:00 2026\nSubject: old\n\nold body\n");
        File.WriteAllBytes(world.Mbox, foreign);

        CliRunner.Outcome run = await world.FetchAsync("--mbox", world.Mbox);
        Assert.True(run.ExitCode == 0, run.Error);
        string text = File.ReadAllText(world.Mbox);
        Assert.StartsWith(Encoding.ASCII.GetString(foreign) + "\nFrom MAILER-DAEMON ", text);
        Assert.Contains("\n>From the start of a line\n>>From already quoted\n>>>From twice\n", text);
        List<byte[]> read = world.MboxMessages();
        Assert.Equal(4, read.Count);
        Assert.Equal(FetchWorld.Describe(messages), FetchWorld.Describe(read.Skip(1)));
        Assert.False(File.Exists(world.Mbox + ".lock"));

        Assert.Equal(0, (await world.FetchAsync("--mbox", world.Mbox)).ExitCode);
        Assert.Equal(4, world.MboxMessages().Count);
    }

    [Fact]
    public async Task Oversized_messages_are_skipped_or_delivered_as_headers_and_never_deleted()
    {
        byte[] big = FetchWorld.Message(2, new string('b', 20_000) + "\n");
        byte[][] messages = [FetchWorld.Message(1), big, FetchWorld.Message(3)];
        await using FetchWorld world = await FetchWorld.StartAsync(messages);

        CliRunner.Outcome skip = await world.FetchAsync("--maildir", world.Maildir, "--max-size", "10K", "--delete");
        Assert.True(skip.ExitCode == 0, skip.Error);
        Assert.Equal(2, world.MaildirMessages().Count);
        Assert.Equal(1, world.Memory.Count); // only the big one is left
        Assert.Contains("over --max-size", skip.Error);

        CliRunner.Outcome headers = await world.FetchAsync("--maildir", world.Maildir, "--max-size", "10K", "--oversize", "headers", "--delete");
        Assert.True(headers.ExitCode == 0, headers.Error);
        string truncated = Encoding.UTF8.GetString(world.MaildirMessages().Single(m => !messages.Any(m.SequenceEqual)));
        Assert.StartsWith("X-Poplib-Truncated: only the header was fetched; the message has ", truncated);
        Assert.Contains("Subject: message 2\n", truncated);
        Assert.DoesNotContain("bbbb", truncated);
        Assert.Equal(1, world.Memory.Count); // headers only: never deleted

        Assert.Equal(0, (await world.FetchAsync("--maildir", world.Maildir, "--max-size", "10K", "--oversize", "headers")).ExitCode);
        Assert.Equal(3, world.MaildirMessages().Count); // not delivered twice
    }

    [Fact]
    public async Task Without_uidl_messages_are_told_apart_by_message_id_and_size()
    {
        byte[][] messages = Messages(4);
        await using FetchWorld world = await FetchWorld.StartAsync(messages, new CommandNotSupported("UIDL"));

        CliRunner.Outcome run1 = await world.FetchAsync("--maildir", world.Maildir);
        Assert.True(run1.ExitCode == 0, run1.Error);
        Assert.Single(run1.Error.Split('\n'), l => l.Contains("no UIDL"));
        world.Memory.Add(FetchWorld.Message(9));
        CliRunner.Outcome run2 = await world.FetchAsync("--maildir", world.Maildir);
        Assert.Contains("5 message(s) on the server, 1 to fetch", run2.Out);
        Assert.Equal(5, world.MaildirMessages().Count);
    }

    [Fact]
    public async Task Duplicate_uidls_lose_and_duplicate_nothing()
    {
        byte[][] messages = Messages(4);
        await using FetchWorld world = await FetchWorld.StartAsync(messages, new DuplicateUidls());

        Assert.Equal(0, (await world.FetchAsync("--maildir", world.Maildir, "--delete", "--limit", "1")).ExitCode);
        Assert.Equal(0, (await world.FetchAsync("--maildir", world.Maildir, "--delete")).ExitCode);
        Assert.Equal(0, (await world.FetchAsync("--maildir", world.Maildir, "--delete")).ExitCode);
        Assert.Equal(FetchWorld.Describe(messages), FetchWorld.Describe(world.MaildirMessages()));
        Assert.Equal(0, world.Memory.Count);
    }

    [Theory]
    [InlineData("--maildir")]
    [InlineData("--mbox")]
    public async Task A_connection_dropped_mid_retr_keeps_what_arrived_whole_and_loses_nothing(string destination)
    {
        byte[][] messages = Messages(6);
        await using FetchWorld world = await FetchWorld.StartAsync(messages, new DisconnectAfterBytes(4, 30));
        string target = destination == "--maildir" ? world.Maildir : world.Mbox;
        List<byte[]> Delivered() => destination == "--maildir" ? world.MaildirMessages() : world.MboxMessages();

        CliRunner.Outcome broken = await world.FetchAsync(destination, target, "--delete");
        Assert.NotEqual(0, broken.ExitCode);
        Assert.Equal(FetchWorld.Describe(messages.Take(3)), FetchWorld.Describe(Delivered()));
        Assert.Equal(6, world.Memory.Count); // no QUIT: no DELE committed

        world.Server.Faults = [];
        CliRunner.Outcome healed = await world.FetchAsync(destination, target, "--delete");
        Assert.True(healed.ExitCode == 0, healed.Error);
        Assert.Contains("6 message(s) on the server, 3 to fetch", healed.Out);
        Assert.Equal(FetchWorld.Describe(messages), FetchWorld.Describe(Delivered()));
        Assert.Equal(0, world.Memory.Count);
    }

    [Fact]
    public async Task Mailbox_in_use_is_a_temporary_failure_and_nothing_moves()
    {
        await using FetchWorld world = await FetchWorld.StartAsync(Messages(2), new LoginInUse());
        CliRunner.Outcome outcome = await world.FetchAsync("--maildir", world.Maildir, "--delete");
        Assert.Equal(ExitCodes.TemporaryFailure, outcome.ExitCode);
        Assert.Contains("in use", outcome.Error);
        Assert.Empty(world.MaildirMessages());
        Assert.Equal(2, world.Memory.Count);
    }

    [Fact]
    public async Task Changed_uidls_are_detected_and_refused_then_deduplicated_on_request()
    {
        byte[][] original = Messages(3);
        byte[] newcomer = FetchWorld.Message(7);
        var mailbox = new RenumberingMailbox(original);
        await using FetchWorld world = await FetchWorld.StartAsync(mailbox);
        Assert.Equal(0, (await world.FetchAsync("--maildir", world.Maildir)).ExitCode);

        mailbox.Generation++; // the server rebuilt its UIDLs
        mailbox.Add(newcomer);
        CliRunner.Outcome refused = await world.FetchAsync("--maildir", world.Maildir);
        Assert.Equal(ExitCodes.ServerError, refused.ExitCode);
        Assert.Contains("UIDLs have changed", refused.Error);
        Assert.Equal(3, world.MaildirMessages().Count);

        CliRunner.Outcome deduped = await world.FetchAsync("--maildir", world.Maildir, "--on-uidl-reset", "dedupe", "--json");
        Assert.True(deduped.ExitCode == 0, deduped.Error);
        using JsonDocument json = JsonDocument.Parse(deduped.Out);
        JsonElement account = json.RootElement.GetProperty("accounts")[0];
        Assert.Equal(1, account.GetProperty("delivered").GetInt32());
        Assert.Equal(3, account.GetProperty("duplicatesSkipped").GetInt32());
        Assert.Equal(FetchWorld.Describe([.. original, newcomer]), FetchWorld.Describe(world.MaildirMessages()));

        Assert.Equal(0, (await world.FetchAsync("--maildir", world.Maildir)).ExitCode); // settled: no more complaints
        Assert.Equal(4, world.MaildirMessages().Count);
    }

    [Fact]
    public async Task Mail_removed_elsewhere_is_not_mistaken_for_a_uidl_reset()
    {
        var mailbox = new RenumberingMailbox(Messages(2));
        await using FetchWorld world = await FetchWorld.StartAsync(mailbox);
        Assert.Equal(0, (await world.FetchAsync("--maildir", world.Maildir)).ExitCode);
        mailbox.Clear(); // deleted through webmail…
        mailbox.Add(FetchWorld.Message(5)); // …and new mail came
        CliRunner.Outcome outcome = await world.FetchAsync("--maildir", world.Maildir);
        Assert.True(outcome.ExitCode == 0, outcome.Error);
        Assert.Equal(3, world.MaildirMessages().Count);
    }

    [Fact]
    public async Task A_delivery_command_gets_each_message_and_only_exit_0_counts()
    {
        byte[][] messages = Messages(3);
        await using FetchWorld world = await FetchWorld.StartAsync(messages);
        string inbox = Path.Combine(world.Folder, "mda");
        Directory.CreateDirectory(inbox);

        CliRunner.Outcome failing = await world.FetchAsync("--mda", "cat >/dev/null; exit 3", "--delete");
        Assert.NotEqual(0, failing.ExitCode);
        Assert.Contains("exit status 3", failing.Error);
        Assert.Equal(3, world.Memory.Count);

        CliRunner.Outcome working = await world.FetchAsync("--mda", $"cat > '{inbox}'/\"$POPLIB_UIDL\"", "--delete");
        Assert.True(working.ExitCode == 0, working.Error);
        Assert.Equal(FetchWorld.Describe(messages), FetchWorld.Describe(Directory.GetFiles(inbox).Select(File.ReadAllBytes)));
        Assert.Equal(0, world.Memory.Count);
    }

    [Fact]
    public async Task Interrupting_keeps_what_was_delivered_and_deletes_nothing()
    {
        byte[][] messages = Messages(40);
        await using FetchWorld world = await FetchWorld.StartAsync(messages, new DelayReplies(TimeSpan.FromMilliseconds(40)));
        using var interrupt = new CancellationTokenSource();
        Task<CliRunner.Outcome> run = world.FetchAsync(interrupt.Token, "--maildir", world.Maildir, "--delete", "--batch", "1");
        while (world.MaildirMessages().Count < 2 && !run.IsCompleted)
            await Task.Delay(20);
        interrupt.Cancel();
        CliRunner.Outcome outcome = await run;
        Assert.Equal(ExitCodes.Interrupted, outcome.ExitCode);
        Assert.Contains("interrupted", outcome.Error);
        Assert.Equal(40, world.Memory.Count);
        Assert.InRange(world.MaildirMessages().Count, 2, 39);

        // The server notices the dropped session only at its next write; until then it holds the mailbox.
        while (world.Server.ActiveSessions > 0)
            await Task.Delay(20);
        world.Server.Faults = [];
        CliRunner.Outcome again = await world.FetchAsync("--maildir", world.Maildir, "--delete");
        Assert.True(again.ExitCode == 0, again.Error);
        Assert.Equal(FetchWorld.Describe(messages), FetchWorld.Describe(world.MaildirMessages()));
        Assert.Equal(0, world.Memory.Count);
    }

    [Fact]
    public async Task Two_fetches_of_one_account_never_run_at_once()
    {
        await using FetchWorld world = await FetchWorld.StartAsync(Messages(30), new DelayReplies(TimeSpan.FromMilliseconds(30)));
        Task<CliRunner.Outcome> first = world.FetchAsync("--maildir", world.Maildir);
        await Task.Delay(300);
        CliRunner.Outcome second = await world.FetchAsync("--maildir", world.Maildir);
        Assert.Equal(ExitCodes.TemporaryFailure, second.ExitCode);
        Assert.Contains("another poplib fetch is running", second.Error);
        Assert.Equal(0, (await first).ExitCode);
        Assert.Equal(30, world.MaildirMessages().Count);
    }

    [Fact]
    public async Task State_rows_record_delivery_and_deletion()
    {
        await using FetchWorld world = await FetchWorld.StartAsync(Messages(2));
        Assert.Equal(0, (await world.FetchAsync("--maildir", world.Maildir, "--delete")).ExitCode);
        using var connection = new SqliteConnection($"Data Source={world.State};Pooling=False");
        connection.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT key, status, destination, location FROM messages ORDER BY key";
        using SqliteDataReader reader = command.ExecuteReader();
        int rows = 0;
        while (reader.Read())
        {
            rows++;
            Assert.Equal("Deleted", reader.GetString(1));
            Assert.Equal("maildir:" + Path.GetFullPath(world.Maildir), reader.GetString(2));
            Assert.True(File.Exists(Path.Combine(world.Maildir, "new", reader.GetString(3))));
        }

        Assert.Equal(2, rows);
    }

    private static byte[] CrlfToLf(byte[] message) => Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(message).Replace("\r\n", "\n", StringComparison.Ordinal));
}

/// <summary>A mailbox whose UIDLs all change when <see cref="Generation"/> does, as after a server migration.</summary>
internal sealed class RenumberingMailbox(IEnumerable<byte[]> messages) : IPop3Mailbox
{
    private readonly List<(int Id, byte[] Content)> _messages = [.. messages.Select((m, i) => (i, m))];
    private int _next = 1000;

    public int Generation { get; set; }

    public void Add(byte[] message)
    {
        lock (_messages)
            _messages.Add((_next++, message));
    }

    public void Clear()
    {
        lock (_messages)
            _messages.Clear();
    }

    public ValueTask<IReadOnlyList<Pop3MailboxMessage>> OpenAsync(CancellationToken cancellationToken)
    {
        lock (_messages)
            return ValueTask.FromResult<IReadOnlyList<Pop3MailboxMessage>>([.. _messages.Select(m => Pop3MailboxMessage.FromBytes($"g{Generation}-{m.Id}", m.Content))]);
    }

    public ValueTask CommitAsync(IReadOnlyList<Pop3MailboxMessage> deleted, CancellationToken cancellationToken)
    {
        lock (_messages)
            _messages.RemoveAll(m => deleted.Any(d => d.Uid.EndsWith("-" + m.Id, StringComparison.Ordinal)));
        return ValueTask.CompletedTask;
    }
}
