using System.Text;
using Poplib.Fetch;
using Poplib.Fetch.Delivery;
using Poplib.Fetch.State;

namespace Poplib.Tests.Fetch;

/// <summary>The destinations' formats and their crash recovery, step by step, without a server.</summary>
public sealed class DeliveryTests : IDisposable
{
    private static readonly AccountKey Account = new("alice", "host", 110);
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "poplib-delivery-" + Guid.NewGuid().ToString("N")[..10]);
    private readonly SqliteFetchStateStore _state;

    public DeliveryTests()
    {
        Directory.CreateDirectory(_folder);
        _state = SqliteFetchStateStore.Open(Path.Combine(_folder, "state.sqlite"));
    }

    public void Dispose()
    {
        _state.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_writer_converts_line_endings_and_quotes_from_lines_whatever_the_chunking(bool byteByByte)
    {
        string wire = "From a\r\n>From b\r\n>>From c\r\nFrom\r\nFro\r\n\r\nbare\rcr\r\n>>\r\n>Fromage\r\nx From y\r\nFrom ";
        string expected = ">From a\n>>From b\n>>>From c\nFrom\nFro\n\nbare\rcr\n>>\n>Fromage\nx From y\n>From ";
        using var output = new MemoryStream();
        using var writer = new MessageWriter(output, quoteFrom: true);
        byte[] bytes = Encoding.ASCII.GetBytes(wire);
        if (byteByByte)
        {
            foreach (byte b in bytes)
                writer.Write([b]);
        }
        else
        {
            writer.Write(bytes);
        }

        DeliveredContent content = writer.Complete(terminate: false);
        Assert.Equal(expected, Encoding.ASCII.GetString(output.ToArray()));
        Assert.Equal(output.Length, content.Length);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(output.ToArray())), content.Digest);
    }

    [Fact]
    public void The_writer_finds_a_folded_message_id_and_ends_mbox_messages_with_a_blank_line()
    {
        using var output = new MemoryStream();
        using var writer = new MessageWriter(output, quoteFrom: true);
        writer.Write("Subject: x\r\nMessage-Id:\r\n <a@b>\r\n\r\nbody without newline"u8);
        DeliveredContent content = writer.Complete(terminate: true);
        Assert.Equal("<a@b>", content.MessageId);
        Assert.EndsWith("body without newline\n\n", Encoding.ASCII.GetString(output.ToArray()));
    }

    [Fact]
    public void Maildir_recovery_confirms_delivered_files_rolls_forward_synced_ones_and_forgets_the_rest()
    {
        var maildir = new MaildirDestination(Path.Combine(_folder, "Maildir"));
        var journal = new DeliveryJournal(_state, Account, maildir.Name);
        StagedMessage[] staged = [.. new[] { "u1", "u2", "u3", "u4" }.Select(key => Stage(maildir, key, $"Subject: {key}\r\n\r\nbody\r\n"))];

        // What a crash right after the first phase leaves: rows naming the final names, files in tmp/.
        foreach (StagedMessage message in staged)
        {
            message.File.Flush(flushToDisk: true);
            message.File.Dispose();
            message.Location = Path.GetFileName(message.TemporaryPath) + ",S=" + message.Content.Length;
        }

        journal.Prepare(staged);
        string root = Path.Combine(_folder, "Maildir");
        File.Move(staged[0].TemporaryPath!, Path.Combine(root, "new", staged[0].Location!));                   // renamed before the crash
        File.Move(staged[1].TemporaryPath!, Path.Combine(root, "cur", staged[1].Location! + ":2,S"));          // …and already read by a mail reader
        File.Delete(staged[3].TemporaryPath!);                                                                 // lost with the crash (never synced)

        var warnings = new List<string>();
        maildir.Recover([.. _state.Load(Account).Values], journal, warnings.Add);

        Dictionary<MessageKey, StoredMessage> rows = _state.Load(Account);
        Assert.Equal(MessageStatus.Delivered, rows[MessageKey.FromUidl("u1")].Status);
        Assert.Equal(MessageStatus.Delivered, rows[MessageKey.FromUidl("u2")].Status);
        Assert.Equal(MessageStatus.Delivered, rows[MessageKey.FromUidl("u3")].Status); // rolled forward from tmp/
        Assert.True(File.Exists(Path.Combine(root, "new", staged[2].Location!)));
        Assert.False(rows.ContainsKey(MessageKey.FromUidl("u4")));                     // forgotten: fetched again next time
        Assert.Empty(warnings);
        Assert.Empty(Directory.GetFiles(Path.Combine(root, "tmp")));
    }

    [Fact]
    public void A_Maildir_swapped_for_a_link_mid_run_gets_none_of_the_run_s_mail()
    {
        // Someone who can write the Maildir's parent moves it away and plants a link to a Maildir of
        // theirs between two messages: the run goes on delivering into the folders it opened.
        string root = Path.Combine(_folder, "Maildir");
        string moved = Path.Combine(_folder, "Maildir.moved");
        string theirs = Path.Combine(_folder, "theirs");
        foreach (string sub in new[] { "tmp", "new", "cur" })
            Directory.CreateDirectory(Path.Combine(theirs, sub));
        using var maildir = new MaildirDestination(root);
        var journal = new DeliveryJournal(_state, Account, maildir.Name);
        StagedMessage first = Stage(maildir, "u1", "Subject: 1\r\n\r\none\r\n");

        Directory.Move(root, moved);
        File.CreateSymbolicLink(root, theirs);
        StagedMessage second = Stage(maildir, "u2", "Subject: 2\r\n\r\ntwo\r\n");
        maildir.Commit([first, second], journal, _ => { });

        Assert.Empty(Directory.GetFiles(theirs, "*", SearchOption.AllDirectories));
        Assert.Equal(["Subject: 1\n\none\n", "Subject: 2\n\ntwo\n"],
            Directory.GetFiles(Path.Combine(moved, "new")).Order(StringComparer.Ordinal).Select(File.ReadAllText).Order(StringComparer.Ordinal));
        Assert.Empty(Directory.GetFiles(Path.Combine(moved, "tmp")));
    }

    [Fact]
    public void Maildir_recovery_removes_partial_files_of_dead_poplib_processes_only()
    {
        string root = Path.Combine(_folder, "Maildir");
        var maildir = new MaildirDestination(root);
        string host = Environment.MachineName;
        string dead = Path.Combine(root, "tmp", $"1700000000.M1P{int.MaxValue - 7}Q1.{host}");
        string mine = Path.Combine(root, "tmp", $"1700000000.M1P{Environment.ProcessId}Q999.{host}");
        string other = Path.Combine(root, "tmp", "someone-elses-file");
        foreach (string path in new[] { dead, mine, other })
            File.WriteAllText(path, "partial");
        maildir.Recover([], new DeliveryJournal(_state, Account, maildir.Name), _ => { });
        Assert.False(File.Exists(dead));
        Assert.True(File.Exists(mine));
        Assert.True(File.Exists(other));
    }

    [Fact]
    public void Mbox_recovery_keeps_complete_messages_and_cuts_off_a_partial_tail()
    {
        string path = Path.Combine(_folder, "mail.mbox");
        var mbox = new MboxDestination(path);
        var journal = new DeliveryJournal(_state, Account, mbox.Name);
        List<StagedMessage> group = [Stage(mbox, "a", "Subject: a\r\n\r\nA\r\n", terminate: true), Stage(mbox, "b", "Subject: b\r\n\r\nB\r\n", terminate: true)];
        mbox.Commit(group, journal, _ => { });
        byte[] before = File.ReadAllBytes(path);

        // A second group: recorded, then the process died half-way through the append.
        List<StagedMessage> second = [Stage(mbox, "c", "Subject: c\r\n\r\nC\r\n", terminate: true), Stage(mbox, "d", "Subject: d\r\n\r\nD\r\n", terminate: true)];
        long offset = before.Length;
        foreach (StagedMessage message in second)
        {
            message.Location = $"{offset}+{message.Content.Length}@{message.FromLineTime}";
            offset += message.Content.Length;
        }

        journal.Prepare(second);
        byte[] c = ReadSpool(second[0]);
        byte[] d = ReadSpool(second[1]);
        File.WriteAllBytes(path, [.. before, .. c, .. d.AsSpan(0, 10)]);

        mbox.Recover([.. _state.Load(Account).Values.Where(r => r.Status == MessageStatus.Delivering)], journal, _ => Assert.Fail("no warning expected"));
        Assert.Equal([.. before, .. c], File.ReadAllBytes(path));
        Dictionary<MessageKey, StoredMessage> rows = _state.Load(Account);
        Assert.Equal(MessageStatus.Delivered, rows[MessageKey.FromUidl("c")].Status);
        Assert.False(rows.ContainsKey(MessageKey.FromUidl("d")));
        Assert.False(File.Exists(path + ".lock"));
    }

    [Fact]
    public void Mbox_recovery_never_cuts_mail_another_program_appended_after_a_partial_message()
    {
        string path = Path.Combine(_folder, "mail.mbox");
        var mbox = new MboxDestination(path);
        var journal = new DeliveryJournal(_state, Account, mbox.Name);
        StagedMessage staged = Stage(mbox, "e", "Subject: e\r\n\r\n" + new string('e', 5000) + "\r\n", terminate: true);
        staged.Location = $"0+{staged.Content.Length}@{staged.FromLineTime}";
        journal.Prepare([staged]);
        byte[] partial = ReadSpool(staged).AsSpan(0, 100).ToArray();
        byte[] foreign = Encoding.ASCII.GetBytes("\nFrom procmail Mon Nov 23 10:00:00 2026\nSubject: theirs\n\nkeep me\n\n");
        File.WriteAllBytes(path, [.. partial, .. foreign]);

        var warnings = new List<string>();
        mbox.Recover([.. _state.Load(Account).Values], journal, warnings.Add);
        Assert.Equal([.. partial, .. foreign], File.ReadAllBytes(path));
        Assert.Single(warnings);
        Assert.Empty(_state.Load(Account)); // fetched again
    }

    [Theory]
    [InlineData("at-our-offset")]
    [InlineData("glued-to-a-partial-line")]
    public void Mbox_recovery_never_cuts_mail_another_writer_put_where_ours_should_have_gone(string how)
    {
        string path = Path.Combine(_folder, "shared.mbox");
        var mbox = new MboxDestination(path);
        var journal = new DeliveryJournal(_state, Account, mbox.Name);
        StagedMessage staged = Stage(mbox, "f", "Subject: f\r\n\r\n" + new string('f', 5000) + "\r\n", terminate: true);
        staged.Location = $"0+{staged.Content.Length}@{staged.FromLineTime}";
        journal.Prepare([staged]);
        // Another poplib (its own separator, dated differently) or an MTA wrote after our kill.
        byte[] theirs = Encoding.ASCII.GetBytes(MboxDestination.FromLine(staged.FromLineTime - 3600) + "Subject: theirs\n\nkeep me\n\n");
        byte[] content = how == "at-our-offset"
            ? theirs
            : [.. ReadSpool(staged).AsSpan(0, 150).ToArray(), .. Encoding.ASCII.GetBytes("From mta@example.org Mon Nov 23 10:00:00 2026\nSubject: t\n\nx\n\n")];
        File.WriteAllBytes(path, content);

        var warnings = new List<string>();
        mbox.Recover([.. _state.Load(Account).Values], journal, warnings.Add);
        Assert.Equal(content, File.ReadAllBytes(path));
        Assert.Single(warnings);
        Assert.Empty(_state.Load(Account));
    }

    [Fact]
    public void A_stale_mbox_dot_lock_of_a_dead_process_is_taken_over()
    {
        string path = Path.Combine(_folder, "locked.mbox");
        File.WriteAllText(path + ".lock", $"{int.MaxValue - 7}\n");
        var mbox = new MboxDestination(path);
        mbox.Commit([Stage(mbox, "x", "Subject: x\r\n\r\nX\r\n", terminate: true)], new DeliveryJournal(_state, Account, mbox.Name), _ => { });
        Assert.False(File.Exists(path + ".lock"));
        Assert.Contains("Subject: x\n", File.ReadAllText(path));
    }

    [Fact]
    public void Leftovers_of_killed_runs_are_cleared_lock_attempts_and_spool_names()
    {
        string path = Path.Combine(_folder, "box.mbox");
        int dead = int.MaxValue - 7;
        string attempt = $"{path}.lock.{dead}.0123456789abcdef";
        string spool = Path.Combine(_folder, $".poplib-spool-{dead}-0123456789abcdef");
        string live = Path.Combine(_folder, $".poplib-spool-{Environment.ProcessId}-0123456789abcdef");
        foreach (string file in new[] { attempt, spool, live })
            File.WriteAllText(file, "");
        var mbox = new MboxDestination(path);
        var journal = new DeliveryJournal(_state, Account, mbox.Name);
        mbox.Recover([], journal, _ => { });
        Assert.False(File.Exists(spool));
        Assert.True(File.Exists(live));
        mbox.Commit([Stage(mbox, "y", "Subject: y\r\n\r\nY\r\n", terminate: true)], journal, _ => { });
        Assert.False(File.Exists(attempt));
        Assert.False(File.Exists(path + ".lock"));
    }

    private static StagedMessage Stage(IMailDestination destination, string key, string wire, bool terminate = false)
    {
        StagedMessage staged = destination.Stage(MessageKey.FromUidl(key), wire.Length);
        staged.Writer.Write(Encoding.UTF8.GetBytes(wire));
        Assert.Equal(terminate, staged.Terminate);
        staged.Complete();
        return staged;
    }

    private static byte[] ReadSpool(StagedMessage staged)
    {
        staged.File.Seek(0, SeekOrigin.Begin);
        using var copy = new MemoryStream();
        staged.File.CopyTo(copy);
        return copy.ToArray();
    }
}
