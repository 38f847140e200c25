using System.Text;
using System.Text.Json;
using Poplib.Cli;
using Poplib.Testing;

namespace Poplib.Tests.Cli.Fetch;

/// <summary>Servers that reuse, change, share or withhold UIDLs, and delivery commands that misbehave.</summary>
public class FetchUntrustedServerTests
{
    [Fact]
    public async Task A_reused_uidl_on_another_message_is_fetched_never_deleted_unread()
    {
        await using FetchWorld world = await FetchWorld.StartAsync([]);
        byte[] first = FetchWorld.Message(1);
        world.Memory.Add(first, "u1");
        Assert.Equal(0, (await world.FetchAsync("--maildir", world.Maildir, "--delete")).ExitCode);
        Assert.Equal(0, world.Memory.Count);

        byte[] otherSize = FetchWorld.Message(2, "a different, longer body\n");
        byte[] sameSize = FetchWorld.Message(3); // same length as the first, other Message-ID
        Assert.Equal(first.Length, sameSize.Length);
        world.Memory.Add(sameSize, "u1"); // same size: only its Message-ID tells
        CliRunner.Outcome run = await world.FetchAsync("--maildir", world.Maildir, "--delete");
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains("of another message", run.Error);
        world.Memory.Add(otherSize, "u1"); // another size: a different message at once
        run = await world.FetchAsync("--maildir", world.Maildir, "--delete");
        Assert.True(run.ExitCode == 0, run.Error);

        Assert.Equal(FetchWorld.Describe([first, otherSize, sameSize]), FetchWorld.Describe(world.MaildirMessages()));
        Assert.Equal(0, world.Memory.Count);
    }

    [Fact]
    public async Task A_uidl_reset_is_caught_even_when_the_sizes_changed_too()
    {
        var mailbox = new RenumberingMailbox([FetchWorld.Message(1), FetchWorld.Message(2)]);
        await using FetchWorld world = await FetchWorld.StartAsync(mailbox);
        Assert.Equal(0, (await world.FetchAsync("--maildir", world.Maildir)).ExitCode);
        mailbox.Generation++;
        world.Server.Faults = [new WrongListSizes(-2)];
        CliRunner.Outcome outcome = await world.FetchAsync("--maildir", world.Maildir);
        Assert.Equal(ExitCodes.ServerError, outcome.ExitCode);
        Assert.Contains("UIDLs have changed", outcome.Error);
        Assert.Equal(2, world.MaildirMessages().Count);
    }

    [Fact]
    public async Task The_same_mailbox_under_another_host_name_is_not_fetched_twice()
    {
        byte[][] messages = [FetchWorld.Message(1), FetchWorld.Message(2)];
        await using FetchWorld world = await FetchWorld.StartAsync(messages);
        Assert.Equal(0, (await world.FetchAsync("--maildir", world.Maildir)).ExitCode);
        string[] viaLocalhost = [.. world.ConnectionArgs().Select(a => a == "127.0.0.1" ? "localhost" : a), "--state", world.State, "--maildir", world.Maildir];
        CliRunner.Outcome refused = await CliRunner.RunAsync(viaLocalhost);
        Assert.Equal(ExitCodes.ServerError, refused.ExitCode);
        Assert.Contains("fetched before under another name (alice@127.0.0.1:", refused.Error);
        Assert.Equal(2, world.MaildirMessages().Count);

        world.Memory.Add(FetchWorld.Message(3));
        CliRunner.Outcome deduped = await CliRunner.RunAsync([.. viaLocalhost, "--on-uidl-reset", "dedupe"]);
        Assert.True(deduped.ExitCode == 0, deduped.Error);
        Assert.Equal(3, world.MaildirMessages().Count);
    }

    [Fact]
    public async Task A_uidl_that_becomes_shared_keeps_the_delivered_message_known()
    {
        byte[][] messages = [FetchWorld.Message(1), FetchWorld.Message(2), FetchWorld.Message(3), FetchWorld.Message(4)];
        await using FetchWorld world = await FetchWorld.StartAsync(messages);
        Assert.Equal(0, (await world.FetchAsync("--maildir", world.Maildir, "--limit", "1")).ExitCode);
        world.Server.Faults = [new DuplicateUidls()]; // message 2 now shares message 1's UIDL
        CliRunner.Outcome outcome = await world.FetchAsync("--maildir", world.Maildir);
        Assert.True(outcome.ExitCode == 0, outcome.Error);
        Assert.Equal(0, (await world.FetchAsync("--maildir", world.Maildir)).ExitCode);
        Assert.Equal(FetchWorld.Describe(messages), FetchWorld.Describe(world.MaildirMessages()));
    }

    [Fact]
    public async Task A_refused_uidl_after_runs_with_uidl_stops_instead_of_refetching_everything()
    {
        await using FetchWorld world = await FetchWorld.StartAsync([FetchWorld.Message(1), FetchWorld.Message(2)]);
        Assert.Equal(0, (await world.FetchAsync("--maildir", world.Maildir)).ExitCode);
        world.Server.Faults = [new CommandNotSupported("UIDL")];
        CliRunner.Outcome outcome = await world.FetchAsync("--maildir", world.Maildir);
        Assert.Equal(ExitCodes.ServerError, outcome.ExitCode);
        Assert.Contains("earlier runs identified this mailbox's messages by UIDL", outcome.Error);
        Assert.Equal(2, world.MaildirMessages().Count);
    }

    [Fact]
    public async Task A_server_that_advertises_uidl_and_refuses_it_stops_the_run_in_words_that_say_so()
    {
        await using FetchWorld world = await FetchWorld.StartAsync([FetchWorld.Message(1)], new CommandRefused("UIDL", "-ERR UIDL is broken today"));
        CliRunner.Outcome outcome = await world.FetchAsync("--maildir", world.Maildir, "--delete");
        Assert.Equal(ExitCodes.ServerError, outcome.ExitCode);
        Assert.Contains("the server advertises UIDL but refused it: UIDL is broken today; nothing was fetched", outcome.Error);
        Assert.Empty(world.MaildirMessages());
        Assert.Equal(1, world.Memory.Count);
    }

    [Fact]
    public async Task A_uidl_refused_for_now_is_a_temporary_failure_that_fetches_and_deletes_nothing()
    {
        await using FetchWorld world = await FetchWorld.StartAsync([FetchWorld.Message(1)], new CommandRefused("UIDL", "-ERR [SYS/TEMP] index rebuild in progress"));
        CliRunner.Outcome outcome = await world.FetchAsync("--maildir", world.Maildir, "--delete");
        Assert.Equal(ExitCodes.TemporaryFailure, outcome.ExitCode);
        Assert.True(outcome.Error.Contains("the server refused UIDL for now: [SYS/TEMP] index rebuild in progress; try again later", StringComparison.Ordinal), outcome.Error);
        Assert.Empty(world.MaildirMessages());
        Assert.Equal(1, world.Memory.Count);
    }

    [Fact]
    public async Task A_headers_only_copy_is_fetched_whole_once_the_limit_allows()
    {
        byte[] big = FetchWorld.Message(1, new string('z', 30_000) + "\n");
        await using FetchWorld world = await FetchWorld.StartAsync([big]);
        Assert.Equal(0, (await world.FetchAsync("--maildir", world.Maildir, "--max-size", "10K", "--oversize", "headers", "--delete")).ExitCode);
        Assert.Equal(1, world.Memory.Count);
        CliRunner.Outcome whole = await world.FetchAsync("--maildir", world.Maildir, "--delete");
        Assert.True(whole.ExitCode == 0, whole.Error);
        Assert.Contains(world.MaildirMessages(), m => m.AsSpan().SequenceEqual(big));
        Assert.Equal(0, world.Memory.Count);
    }

    [Fact]
    public async Task A_rejecting_delivery_command_skips_that_message_only_and_never_sees_the_password()
    {
        byte[][] messages = [FetchWorld.Message(1), FetchWorld.Message(2), FetchWorld.Message(3)];
        await using FetchWorld world = await FetchWorld.StartAsync(messages);
        string inbox = Path.Combine(world.Folder, "mda");
        Directory.CreateDirectory(inbox);
        string mda = $"cat > '{inbox}'/\"$POPLIB_UIDL\"; env > '{inbox}'/env-\"$POPLIB_UIDL\".txt; echo delivered \"$POPLIB_UIDL\"; " +
            $"if grep -q 'Subject: message 2' '{inbox}'/\"$POPLIB_UIDL\"; then rm '{inbox}'/\"$POPLIB_UIDL\"; exit 1; fi";
        CliRunner.Outcome outcome = await world.FetchAsync("--mda", mda, "--delete", "--json");
        Assert.Equal(ExitCodes.LocalIo, outcome.ExitCode);
        using JsonDocument json = JsonDocument.Parse(outcome.Out); // the command's own "echo" went to the process's stderr, not into the JSON
        JsonElement account = json.RootElement.GetProperty("accounts")[0];
        Assert.Equal(2, account.GetProperty("delivered").GetInt32());
        Assert.Equal(1, account.GetProperty("rejected").GetInt32());
        Assert.Equal(1, world.Memory.Count); // the rejected one stays
        Assert.All(Directory.GetFiles(inbox, "env-*"), f => Assert.DoesNotContain(FetchWorld.Password, File.ReadAllText(f)));
    }

    [Theory]
    [InlineData("--maildir")]
    [InlineData("--mbox")]
    public async Task A_server_that_ignores_dele_is_asked_again_and_never_causes_duplicates(string destination)
    {
        // No Message-ID: each copy is downloaded again and compared with the digest recorded at
        // delivery — for an mbox, the dated separator line is reproduced for the comparison.
        byte[][] messages = [Encoding.ASCII.GetBytes("Subject: cron 1\n\nFrom the start\nno id\n"), Encoding.ASCII.GetBytes("Subject: cron 2\n\nno id either\n")];
        var mailbox = new StubbornMailbox(messages);
        await using FetchWorld world = await FetchWorld.StartAsync(mailbox);
        for (int run = 0; run < 3; run++)
        {
            CliRunner.Outcome outcome = await world.FetchAsync(destination, destination == "--mbox" ? world.Mbox : world.Maildir, "--delete");
            Assert.True(outcome.ExitCode == 0, outcome.Error);
            if (run == 0 && destination == "--mbox")
                await Task.Delay(1100); // the next run's separator lines carry another second
        }

        Assert.Equal(FetchWorld.Describe(messages), FetchWorld.Describe(destination == "--mbox" ? world.MboxMessages() : world.MaildirMessages()));
        Assert.Equal(3, mailbox.Commits); // asked to delete every time
    }

    [Fact]
    public async Task Sizes_counted_differently_later_do_not_make_old_mail_new()
    {
        byte[][] messages = [FetchWorld.Message(1), FetchWorld.Message(2)];
        await using FetchWorld world = await FetchWorld.StartAsync(messages);
        Assert.Equal(0, (await world.FetchAsync("--maildir", world.Maildir)).ExitCode);
        world.Server.Faults = [new WrongListSizes(3)];
        CliRunner.Outcome outcome = await world.FetchAsync("--maildir", world.Maildir);
        Assert.True(outcome.ExitCode == 0, outcome.Error);
        Assert.Contains("0 to fetch", outcome.Out);
        Assert.Equal(0, (await world.FetchAsync("--maildir", world.Maildir)).ExitCode);
        Assert.Equal(2, world.MaildirMessages().Count);
    }

    [Fact]
    public async Task Without_top_a_suspected_reset_follows_the_policy_instead_of_refusing_forever()
    {
        var mailbox = new RenumberingMailbox([FetchWorld.Message(1)]);
        await using FetchWorld world = await FetchWorld.StartAsync(mailbox, new CommandNotSupported("TOP"));
        Assert.Equal(0, (await world.FetchAsync("--maildir", world.Maildir)).ExitCode);
        mailbox.Clear();
        mailbox.Add(FetchWorld.Message(2));
        CliRunner.Outcome refused = await world.FetchAsync("--maildir", world.Maildir);
        Assert.Equal(ExitCodes.ServerError, refused.ExitCode);
        Assert.Contains("cannot check", refused.Error);
        CliRunner.Outcome told = await world.FetchAsync("--maildir", world.Maildir, "--on-uidl-reset", "refetch");
        Assert.True(told.ExitCode == 0, told.Error);
        Assert.Equal(0, (await world.FetchAsync("--maildir", world.Maildir)).ExitCode); // settled
        Assert.Equal(2, world.MaildirMessages().Count);
    }

    [Fact]
    public async Task A_trailing_slash_names_the_same_maildir()
    {
        await using FetchWorld world = await FetchWorld.StartAsync([FetchWorld.Message(1)]);
        Assert.Equal(0, (await world.FetchAsync("--maildir", world.Maildir + "/")).ExitCode);
        Assert.Equal(0, (await world.FetchAsync("--maildir", world.Maildir)).ExitCode);
        Assert.Single(world.MaildirMessages());
    }
}

/// <summary>A server that says +OK to DELE and QUIT but never deletes anything.</summary>
internal sealed class StubbornMailbox(IEnumerable<byte[]> messages) : IPop3Mailbox
{
    private readonly List<Pop3MailboxMessage> _messages = [.. messages.Select((m, i) => Pop3MailboxMessage.FromBytes($"s{i}", m))];

    public int Commits { get; private set; }

    public ValueTask<IReadOnlyList<Pop3MailboxMessage>> OpenAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<Pop3MailboxMessage>>(_messages);

    public ValueTask CommitAsync(IReadOnlyList<Pop3MailboxMessage> deleted, CancellationToken cancellationToken)
    {
        if (deleted.Count > 0)
            Commits++;
        return ValueTask.CompletedTask;
    }
}
