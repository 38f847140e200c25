using System.Diagnostics;
using Poplib.Tests.Infrastructure;
using Poplib.Tests.Interop.Lab;

namespace Poplib.Tests.Interop;

/// <summary>Every command of RFC 1939 and CAPA, sync and async.</summary>
public abstract partial class InteropSuite
{
    [InteropTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Capa_lists_what_the_server_offers_or_is_absent(bool async)
    {
        using Pop3Client client = await ConnectAsync(async, Link.Plain);
        Assert.StartsWith("+OK", client.Welcome, StringComparison.Ordinal);
        Assert.Equal(Server.Apop, client.ApopTimestamp is not null);
        Pop3Capabilities capabilities = client.Capabilities;
        Assert.Equal(Server.Capa, capabilities.IsSupported);
        if (Server.Capa)
        {
            Assert.True(capabilities.Top && capabilities.Uidl && capabilities.User, capabilities.ToString());
            Assert.Equal(Server.Stls, capabilities.Stls);
            Assert.Equal(Server.Pipelining, capabilities.Pipelining);
            Assert.Equal(Server.ResponseCodes, capabilities.ResponseCodes);
            Assert.Equal(Server.Sasl, capabilities.SaslMechanisms);
            Assert.Equal(capabilities.Keys.Order(), (await Both.Run(async, client.Capa, () => client.CapaAsync())).Keys.Order());
        }
        else
        {
            // CAPA at connect got -ERR: the client knows nothing, assumes nothing, and goes on.
            Assert.False(capabilities.Stls || capabilities.Pipelining || capabilities.Top);
            await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, client.Capa, () => client.CapaAsync()));
            Assert.True(client.IsConnected);
        }

        await LoginAsync(async, client);
        // After login: Dovecot and Cyrus drop STLS, USER and SASL; GNU pop3d and Courier keep listing them.
        Assert.Equal(Server.Capa, client.Capabilities.IsSupported);
        Assert.Equal(Server.KeepsLoginCapabilities, client.Capabilities.Stls);
        Assert.Equal(Server.KeepsLoginCapabilities, client.Capabilities.User);
        // Whatever it lists, STLS after login is refused before anything is sent.
        await Assert.ThrowsAsync<InvalidOperationException>(() => Both.Run(async, () => client.Stls(), () => client.StlsAsync()));
        Assert.True(client.IsConnected);
        await Both.Run(async, client.Quit, () => client.QuitAsync());
    }

    [InteropTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Status_lines_are_taken_however_the_server_words_them(bool async)
    {
        // From popa3d's bare "+OK" and "-ERR" to Cyrus's SESSIONID and solid-pop3d's "+OK " with a
        // trailing space: nothing after +OK or -ERR is needed, and all of it is kept as sent.
        LabMailbox mailbox = FreshMailbox();
        using Pop3Client client = await ConnectAsync(async, Server.Preferred);
        Assert.Matches($"^{Server.Greeting}$", client.Welcome);
        Pop3Response pass = await UserPassAsync(async, client);
        Assert.Matches($"^{Server.PassReply}$", pass.Line);

        Pop3Message retr = await Both.Run(async, () => client.Retr(1), () => client.RetrAsync(1));
        Assert.Equal(string.Format(System.Globalization.CultureInfo.InvariantCulture, Server.RetrReply, retr.Octets), retr.Response.Line);
        Pop3Message top = await Both.Run(async, () => client.Top(1, 0), () => client.TopAsync(1, 0));
        Assert.Equal(Server.TopReply, top.Response.Line);
        Assert.True(top.Response.IsOk);

        var missing = await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, () => client.Retr(mailbox.Count + 1), () => client.RetrAsync(mailbox.Count + 1)));
        Assert.Equal(string.Format(System.Globalization.CultureInfo.InvariantCulture, Server.NoSuchMessage, mailbox.Count + 1), missing.Response.Line);
        await Both.Run(async, client.Noop, () => client.NoopAsync());
        await Both.Run(async, client.Quit, () => client.QuitAsync());
    }

    [InteropTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Utf8_is_taken_where_offered_and_refused_as_a_command_error_elsewhere(bool async)
    {
        FreshMailbox();
        using Pop3Client client = await ConnectAsync(async, Server.Preferred);
        Assert.Equal(Server.Utf8, client.Capabilities.Utf8);
        if (Server.Utf8)
        {
            Assert.True((await Both.Run(async, client.Utf8, () => client.Utf8Async())).IsOk);
        }
        else
        {
            await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, client.Utf8, () => client.Utf8Async()));
            Assert.True(client.IsConnected);
        }

        await LoginAsync(async, client);
        Assert.Equal(Mailbox.Count, (await Both.Run(async, client.Stat, () => client.StatAsync())).Count);
        await Both.Run(async, client.Quit, () => client.QuitAsync());
    }

    [InteropTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Stat_list_and_uidl_describe_the_mailbox_in_full_and_one_by_one(bool async)
    {
        LabMailbox mailbox = FreshMailbox();
        using Pop3Client client = await OpenSessionAsync(async);
        ServedMessage[] served = await RetrieveAllAsync(async, client);

        // Sizes are what RETR sends (after GNU pop3d's UIDL has added X-UIDL: it counts it at once).
        Pop3MailboxStatus stat = await Both.Run(async, client.Stat, () => client.StatAsync());
        Assert.Equal(new Pop3MailboxStatus(mailbox.Count, served.Sum(m => (long)m.Content.Length)), stat);
        IReadOnlyList<Pop3ListEntry> list = await Both.Run(async, client.List, () => client.ListAsync());
        Assert.Equal(served.Select(m => new Pop3ListEntry(m.Number, m.Content.Length)), list);
        IReadOnlyList<Pop3UidlEntry> uidl = await Both.Run(async, client.Uidl, () => client.UidlAsync());
        Assert.Equal(mailbox.Count, uidl.Select(u => u.Uid).Distinct(StringComparer.Ordinal).Count());
        foreach (ServedMessage message in served)
        {
            Assert.Equal(list[message.Number - 1], await Both.Run(async, () => client.List(message.Number), () => client.ListAsync(message.Number)));
            Assert.Equal(uidl[message.Number - 1], await Both.Run(async, () => client.Uidl(message.Number), () => client.UidlAsync(message.Number)));
        }

        // A number past the end is the server's -ERR, and the session goes on.
        await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, () => client.List(mailbox.Count + 1), () => client.ListAsync(mailbox.Count + 1)));
        await Both.Run(async, client.Noop, () => client.NoopAsync());
        await Both.Run(async, client.Quit, () => client.QuitAsync());
    }

    [InteropTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Retr_returns_every_message_byte_for_byte_streamed_and_pipelined_too(bool async)
    {
        FreshMailbox();
        using Pop3Client client = await OpenSessionAsync(async);
        ServedMessage[] served = await RetrieveAllAsync(async, client);

        var streamed = new MemoryStream();
        long octets = await Both.Run(async, () => client.RetrTo(1, streamed), () => client.RetrToAsync(1, streamed));
        Assert.Equal(served[0].Content.Length, octets);
        AssertSameBytes(served[0].Content, streamed.ToArray(), "RetrTo 1");
        await using (Pop3MessageStream stream = await Both.Run(async, () => client.OpenRetr(served.Length), () => client.OpenRetrAsync(served.Length)))
        {
            var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            AssertSameBytes(served[^1].Content, copy.ToArray(), $"OpenRetr {served.Length}");
        }

        // The batch pipelines where the server offers PIPELINING, and goes lockstep elsewhere.
        IReadOnlyList<Pop3ListEntry> listing = await Both.Run(async, client.List, () => client.ListAsync());
        var batch = new List<(int Number, byte[] Content)>();
        if (async)
        {
            await foreach (Pop3BatchMessage message in client.RetrManyAsync(listing))
                batch.Add((message.Number, await ReadAllAsync(message)));
        }
        else
        {
            foreach (Pop3BatchMessage message in client.RetrMany(listing))
                batch.Add((message.Number, await ReadAllAsync(message)));
        }

        Assert.Equal(listing.Select(e => e.Number), batch.Select(b => b.Number));
        foreach ((int number, byte[] content) in batch)
            AssertSameBytes(served[number - 1].Content, content, $"RetrMany message {number}");
        await Both.Run(async, client.Quit, () => client.QuitAsync());
    }

    [InteropTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Top_returns_the_header_and_no_more_than_the_lines_asked_for(bool async)
    {
        FreshMailbox();
        using Pop3Client client = await OpenSessionAsync(async);
        IReadOnlyList<Pop3UidlEntry> uids = await Both.Run(async, client.Uidl, () => client.UidlAsync());
        foreach (Pop3UidlEntry uid in uids)
        {
            Pop3Message header = await Both.Run(async, () => client.Top(uid.Number, 0), () => client.TopAsync(uid.Number, 0));
            int sequence = LabMailbox.SequenceOf(header.Content.Span);
            Assert.True(sequence > 0, $"TOP {uid.Number} 0 has no X-Lab-Seq header");
            byte[] whole = Server.Expected(Mailbox.Messages[sequence - 1], uid.Uid, header.ToArray());
            AssertSameBytes(Server.ExpectedTop(whole, 0), header.Content, $"TOP {uid.Number} 0");
            Assert.False(header.ExcessDiscarded);

            Pop3Message five = await Both.Run(async, () => client.Top(uid.Number, 5), () => client.TopAsync(uid.Number, 5));
            AssertSameBytes(Server.ExpectedTop(whole, 5), five.Content, $"TOP {uid.Number} 5");
            // GNU pop3d sends one line more than asked (its extra empty line): read and dropped, and said so.
            Assert.Equal(Server.TopExtraBlankLine, five.ExcessDiscarded);
        }

        await Both.Run(async, client.Quit, () => client.QuitAsync());
    }

    [InteropTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Dele_then_quit_removes_exactly_those_messages(bool async)
    {
        LabMailbox mailbox = FreshMailbox();
        int[] gone = [1, mailbox.Count / 2];
        string[] goneUids;
        using (Pop3Client client = await OpenSessionAsync(async))
        {
            IReadOnlyList<Pop3UidlEntry> before = await Both.Run(async, client.Uidl, () => client.UidlAsync());
            goneUids = [.. gone.Select(n => before[n - 1].Uid)];
            foreach (int number in gone)
                await Both.Run(async, () => client.Dele(number), () => client.DeleAsync(number));

            // Until QUIT the numbers stay, with gaps where the deleted were.
            int[] left = [.. Enumerable.Range(1, mailbox.Count).Except(gone)];
            Assert.Equal(left, (await Both.Run(async, client.List, () => client.ListAsync())).Select(e => e.Number));
            Assert.Equal(left, (await Both.Run(async, client.Uidl, () => client.UidlAsync())).Select(e => e.Number));
            Assert.Equal(mailbox.Count - gone.Length, (await Both.Run(async, client.Stat, () => client.StatAsync())).Count);
            var deleted = await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, () => client.Retr(gone[0]), () => client.RetrAsync(gone[0])));
            Assert.Equal("RETR", deleted.Command);
            await Both.Run(async, client.Quit, () => client.QuitAsync());
        }

        using (Pop3Client client = await OpenSessionAsync(async))
        {
            ServedMessage[] left = await RetrieveAllAsync(async, client, mailbox.Count - gone.Length);
            Assert.Empty(left.Select(m => m.Uid).Intersect(goneUids));
            await Both.Run(async, client.Quit, () => client.QuitAsync());
        }
    }

    [InteropTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Dele_then_rset_or_a_dropped_connection_removes_nothing(bool async)
    {
        LabMailbox mailbox = FreshMailbox();
        using (Pop3Client client = await OpenSessionAsync(async))
        {
            await Both.Run(async, () => client.Dele(2), () => client.DeleAsync(2));
            Assert.Equal(mailbox.Count - 1, (await Both.Run(async, client.Stat, () => client.StatAsync())).Count);
            await Both.Run(async, client.Rset, () => client.RsetAsync());
            Assert.Equal(mailbox.Count, (await Both.Run(async, client.Stat, () => client.StatAsync())).Count);
            Assert.Equal(2, (await Both.Run(async, () => client.List(2), () => client.ListAsync(2))).Number);
            await Both.Run(async, () => client.Dele(3), () => client.DeleAsync(3));
            await Both.Run(async, client.Rset, () => client.RsetAsync());
            await Both.Run(async, client.Quit, () => client.QuitAsync());
        }

        // DELE, then Dispose without QUIT: RFC 1939 says the server must not enter the UPDATE state.
        using (Pop3Client client = await OpenSessionAsync(async))
        {
            await Both.Run(async, () => client.Dele(1), () => client.DeleAsync(1));
            await Both.Run(async, () => client.Dele(4), () => client.DeleAsync(4));
        }

        using (Pop3Client client = await OpenSessionAsync(async))
        {
            await RetrieveAllAsync(async, client);
            await Both.Run(async, client.Quit, () => client.QuitAsync());
        }
    }

    [InteropTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Lockstep_retr_never_waits_for_a_delayed_ack(bool async)
    {
        // Five of the six servers write a reply in two segments; with Nagle on their side and delayed
        // ACK on ours the second waited ~40 ms (44 ms per RETR measured here). The client re-arms
        // TCP_QUICKACK before each read: a lockstep RETR of 4 KiB takes well under a millisecond.
        LabMailbox mailbox = FreshMailbox();
        using Pop3Client client = await OpenSessionAsync(async, Link.Plain);
        await Both.Run(async, () => client.Retr(1), () => client.RetrAsync(1));
        var times = new List<double>();
        for (int i = 0; i < 50; i++)
        {
            int number = (i % mailbox.Count) + 1;
            long start = Stopwatch.GetTimestamp();
            Pop3Message message = await Both.Run(async, () => client.Retr(number), () => client.RetrAsync(number));
            times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            Assert.True(message.Octets > 4000);
        }

        double median = times.Order().ElementAt(times.Count / 2);
        Assert.True(median < 10, $"{Server}: median lockstep RETR {median:F2} ms (all: {string.Join(", ", times.Select(t => t.ToString("F1", System.Globalization.CultureInfo.InvariantCulture)))})");
        await Both.Run(async, client.Quit, () => client.QuitAsync());
    }

    private static async Task<byte[]> ReadAllAsync(Pop3BatchMessage message)
    {
        Assert.True(message.IsOk, message.Error?.Message);
        var copy = new MemoryStream();
        await message.Content.CopyToAsync(copy);
        return copy.ToArray();
    }
}
