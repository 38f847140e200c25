using System.Text;
using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.Scripted;

/// <summary>Pipelined batches (RFC 2449): windows, lockstep, per-item errors, early exits.</summary>
public class PipeliningTests
{
    private static string Message(int n) => $"Subject: {n}\r\n\r\nbody of message {n}\r\n";

    private static string Reply(int n) => "+OK\r\n" + Message(n) + ".\r\n";

    private static async Task<Pop3Client> LoggedIn(ScriptedServer server, int window = 64)
    {
        Pop3ClientOptions options = Both.Plain();
        options.PipelineWindow = window;
        Pop3Client client = await Pop3Client.ConnectAsync("127.0.0.1", server.Port, options);
        await client.UserAsync("alice");
        await client.PassAsync("secret");
        return client;
    }

    private static string Read(Pop3BatchMessage message) => new StreamReader(message.Content, Encoding.UTF8).ReadToEnd();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task All_commands_go_out_before_the_first_reply_and_an_err_spoils_nothing(bool async)
    {
        // The script reads all three RETRs before answering: a lockstep client would wait forever here.
        await using var server = ScriptedServer.Start(s => s.LoggedIn(["USER", "PIPELINING"])
            .Expect("RETR 1").Expect("RETR 2").Expect("RETR 3")
            .SendRaw(Reply(1) + "-ERR [SYS/TEMP] message 2 is unreadable\r\n" + Reply(3))
            .On("NOOP", "+OK"));
        using Pop3Client client = await LoggedIn(server);

        var seen = new List<string>();
        if (async)
        {
            await foreach (Pop3BatchMessage message in client.RetrManyAsync([1, 2, 3]))
                seen.Add(message.IsOk ? Read(message) : $"error {message.Number}: {message.Error.ResponseCode}");
        }
        else
        {
            foreach (Pop3BatchMessage message in client.RetrMany([1, 2, 3]))
                seen.Add(message.IsOk ? Read(message) : $"error {message.Number}: {message.Error.ResponseCode}");
        }

        Assert.Equal([Message(1), "error 2: SysTemp", Message(3)], seen);
        await Both.Run(async, client.Noop, () => client.NoopAsync());
        await server.VerifyAsync();
    }

    [Fact]
    public async Task Without_PIPELINING_the_batch_goes_in_lockstep()
    {
        await using var server = ScriptedServer.Start(s => s.LoggedIn(["USER"])
            .Expect("RETR 1").ExpectQuiet().SendRaw(Reply(1))
            .Expect("RETR 2").ExpectQuiet().SendRaw(Reply(2)));
        using Pop3Client client = await LoggedIn(server);
        Assert.Equal([Message(1), Message(2)], client.RetrMany([1, 2]).Select(Read));
        await server.VerifyAsync();
    }

    [Fact]
    public async Task A_window_smaller_than_the_batch_slides_as_replies_are_read()
    {
        await using var server = ScriptedServer.Start(s => s.LoggedIn(["USER", "PIPELINING"])
            .Expect("RETR 1").Expect("RETR 2").ExpectQuiet().SendRaw(Reply(1))
            .Expect("RETR 3").ExpectQuiet().SendRaw(Reply(2))
            .Expect("RETR 4").SendRaw(Reply(3))
            .Expect("RETR 5").SendRaw(Reply(4) + Reply(5)));
        using Pop3Client client = await LoggedIn(server, window: 2);
        var bodies = new List<string>();
        await foreach (Pop3BatchMessage message in client.RetrManyAsync(Enumerable.Range(1, 5)))
            bodies.Add(Read(message));
        Assert.Equal(Enumerable.Range(1, 5).Select(Message), bodies);
        await server.VerifyAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_window_is_topped_up_before_the_client_waits_so_it_stays_full(bool async)
    {
        // Window 4. Replies 1 and 2 arrive together; the script then wants RETR 5 and RETR 6 before it
        // answers anything else: a client that refilled only once the window ran dry (or only after a
        // whole window of replies) would wait here for ever. After that, four commands are in flight
        // again, so the script hears nothing more until it answers.
        await using var server = ScriptedServer.Start(s => s.LoggedIn(["USER", "PIPELINING"])
            .Expect("RETR 1").Expect("RETR 2").Expect("RETR 3").Expect("RETR 4").ExpectQuiet()
            .SendRaw(Reply(1) + Reply(2))
            .Expect("RETR 5").Expect("RETR 6").ExpectQuiet()
            .SendRaw(Reply(3))
            .Expect("RETR 7").ExpectQuiet()
            .SendRaw(Reply(4) + Reply(5) + Reply(6) + Reply(7)));
        using Pop3Client client = await LoggedIn(server, window: 4);

        var bodies = new List<string>();
        if (async)
        {
            await foreach (Pop3BatchMessage message in client.RetrManyAsync(Enumerable.Range(1, 7)))
                bodies.Add(Read(message));
        }
        else
        {
            foreach (Pop3BatchMessage message in client.RetrMany(Enumerable.Range(1, 7)))
                bodies.Add(Read(message));
        }

        Assert.Equal(Enumerable.Range(1, 7).Select(Message), bodies);
        await server.VerifyAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_refill_goes_out_before_a_message_body_waits_for_the_network(bool async)
    {
        // Window 2. Reply 1 and the first half of reply 2 arrive together. Once message 1 is read, RETR 3
        // is due; reading message 2 then needs the network, and RETR 3 must have gone out first: the
        // script sends the rest of message 2 only after it has RETR 3.
        string second = Reply(2);
        int half = second.Length / 2;
        await using var server = ScriptedServer.Start(s => s.LoggedIn(["USER", "PIPELINING"])
            .Expect("RETR 1").Expect("RETR 2").ExpectQuiet()
            .SendRaw(Reply(1) + second[..half])
            .Expect("RETR 3")
            .SendRaw(second[half..] + Reply(3)));
        using Pop3Client client = await LoggedIn(server, window: 2);

        var bodies = new List<string>();
        if (async)
        {
            await foreach (Pop3BatchMessage message in client.RetrManyAsync([1, 2, 3]))
                bodies.Add(Read(message));
        }
        else
        {
            foreach (Pop3BatchMessage message in client.RetrMany([1, 2, 3]))
                bodies.Add(Read(message));
        }

        Assert.Equal([Message(1), Message(2), Message(3)], bodies);
        await server.VerifyAsync();
    }

    [Fact]
    public async Task Known_sizes_bound_the_octets_in_flight()
    {
        await using var server = ScriptedServer.Start(s => s.LoggedIn(["USER", "PIPELINING"])
            .Expect("RETR 1").ExpectQuiet().SendRaw(Reply(1))
            .Expect("RETR 2").Expect("RETR 3").ExpectQuiet().SendRaw(Reply(2) + Reply(3)));
        Pop3ClientOptions options = Both.Plain();
        options.PipelineMaxBytes = 1000;
        using Pop3Client client = await Pop3Client.ConnectAsync("127.0.0.1", server.Port, options);
        client.User("alice");
        client.Pass("secret");
        // 900 octets alone, then 400 + 400 together: the byte window is 1,000.
        Pop3ListEntry[] listing = [new(1, 900), new(2, 400), new(3, 400)];
        Assert.Equal(3, client.RetrMany(listing).Count(m => Read(m).Length > 0));
        await server.VerifyAsync();
    }

    [Fact]
    public async Task Stopping_early_reads_the_owed_replies_and_old_streams_are_cut_off()
    {
        await using var server = ScriptedServer.Start(s => s.LoggedIn(["USER", "PIPELINING"])
            .Expect("RETR 1").Expect("RETR 2").Expect("RETR 3")
            .SendRaw(Reply(1) + Reply(2) + Reply(3))
            .On("NOOP", "+OK still in step"));
        using Pop3Client client = await LoggedIn(server);

        Stream? first = null;
        foreach (Pop3BatchMessage message in client.RetrMany([1, 2, 3]))
        {
            if (first is not null)
            {
                // The first message's stream must never read the second's bytes.
                Assert.Throws<ObjectDisposedException>(() => first.ReadByte());
                break;
            }

            first = message.Content;
            Assert.Equal((byte)'S', first.ReadByte());
        }

        Assert.Equal("still in step", client.Noop().Text);
        await server.VerifyAsync();
    }

    [Theory]
    [InlineData(false, "RETR")]
    [InlineData(true, "RETR")]
    [InlineData(false, "TOP")]
    [InlineData(true, "TOP")]
    public async Task A_failed_drain_after_an_early_exit_makes_the_next_call_report_that_failure(bool async, string verb)
    {
        // The server answers the first message, then hangs up in the middle of the second. The caller
        // has stopped after the first, so the batch's end drains the owed replies: that fails, and the
        // next call must say so as a protocol failure, not as a usage error of the caller's.
        string Command(int n) => verb == "RETR" ? $"RETR {n}" : $"TOP {n} 0";
        string head = verb == "RETR" ? Reply(1) : "+OK\r\nSubject: 1\r\n\r\n.\r\n";
        await using var server = ScriptedServer.Start(s => s.LoggedIn(["USER", "PIPELINING", "TOP"])
            .Expect(Command(1)).Expect(Command(2)).Expect(Command(3))
            .SendRaw(head + "+OK\r\nSubject: 2\r\n").Close());
        using Pop3Client client = await LoggedIn(server);

        if (async)
        {
            await foreach (Pop3BatchMessage message in verb == "RETR" ? client.RetrManyAsync([1, 2, 3]) : client.TopManyAsync([1, 2, 3], 0))
            {
                Read(message);
                break;
            }
        }
        else
        {
            foreach (Pop3BatchMessage message in verb == "RETR" ? client.RetrMany([1, 2, 3]) : client.TopMany([1, 2, 3], 0))
            {
                Read(message);
                break;
            }
        }

        Assert.False(client.IsConnected);
        var error = await Assert.ThrowsAsync<Pop3ProtocolException>(() => Both.Run(async, client.Noop, () => client.NoopAsync()));
        Assert.Contains("closed earlier", error.Message);
        Assert.Contains("incomplete", error.InnerException!.Message);
        await Assert.ThrowsAsync<Pop3ProtocolException>(() => Both.Run(async, client.Stat, () => client.StatAsync()));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DeleMany_reports_each_outcome(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.LoggedIn(["USER", "PIPELINING"])
            .Expect("DELE 1").Expect("DELE 9").Expect("DELE 2")
            .Send("+OK deleted", "-ERR no such message", "+OK deleted")
            .On("QUIT", "+OK"));
        using Pop3Client client = await LoggedIn(server);
        IReadOnlyList<Pop3BatchItem> results = await Both.Run(async, () => client.DeleMany([1, 9, 2]), () => client.DeleManyAsync([1, 9, 2]));
        Assert.Equal([true, false, true], results.Select(r => r.IsOk));
        Assert.Equal([1, 9, 2], results.Select(r => r.Number));
        Pop3BatchItem refused = results[1];
        Assert.False(refused.IsOk);
        Assert.Equal("no such message", refused.Error.ResponseText);
        await Both.Run(async, client.Quit, () => client.QuitAsync());
        await server.VerifyAsync();
    }

    [Fact]
    public async Task A_bad_number_in_the_sequence_sends_nothing_half_made_and_keeps_the_session()
    {
        await using var server = ScriptedServer.Start(s => s.LoggedIn(["USER", "PIPELINING"])
            .On("NOOP", "+OK"));
        using Pop3Client client = await LoggedIn(server);
        Assert.Throws<ArgumentOutOfRangeException>(() => client.DeleMany([3, 0]));
        client.Noop();
        await server.VerifyAsync();
        Assert.DoesNotContain(server.Received, l => l.StartsWith("DELE", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_batch_holds_the_client_until_it_ends()
    {
        await using var server = ScriptedServer.Start(s => s.LoggedIn(["USER", "PIPELINING"])
            .Expect("RETR 1").SendRaw(Reply(1)).On("NOOP", "+OK"));
        using Pop3Client client = await LoggedIn(server);
        using (IEnumerator<Pop3BatchMessage> batch = client.RetrMany([1]).GetEnumerator())
        {
            Assert.True(batch.MoveNext());
            Assert.Throws<InvalidOperationException>(() => client.Noop());
        }

        client.Noop();
    }
}
