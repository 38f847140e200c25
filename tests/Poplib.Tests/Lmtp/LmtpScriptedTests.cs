using System.Text;
using Poplib.Fetch.Delivery.Lmtp;
using Poplib.Tests.Infrastructure;
using static Poplib.Tests.Lmtp.LmtpTestPaths;

namespace Poplib.Tests.Lmtp;

/// <summary>The LMTP client against a scripted server on a real socket, for what Dovecot will not do; sync and async.</summary>
public class LmtpScriptedTests
{
    private static readonly byte[] s_message = Encoding.ASCII.GetBytes("Subject: hi\r\n\r\nbody\r\n");
    private static readonly string[] s_messageLines = ["Subject: hi", "", "body"];

    private static readonly LmtpClientOptions s_short = new()
    {
        ConnectTimeout = TimeSpan.FromMilliseconds(500),
        Timeout = TimeSpan.FromMilliseconds(500),
        DataTimeout = TimeSpan.FromMilliseconds(500),
    };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Pipelined_the_envelope_goes_in_one_write_and_each_recipient_gets_its_own_result(bool async)
    {
        await using var server = ScriptedServer.Start(s => s
            .Lhlo("PIPELINING", "ENHANCEDSTATUSCODES", "8BITMIME")
            .Expect("MAIL FROM:<bob@example.org>")
            .Expect("RCPT TO:<a@example.org>")
            .Expect("RCPT TO:<b@example.org>")
            .Expect("RCPT TO:<c@example.org>")
            .Expect("DATA")
            .Send("250 2.1.0 OK", "250 2.1.5 OK", "451 4.3.0 Temporary lookup failure", "550 5.1.1 <c@example.org> User doesn't exist", "354 go ahead")
            .ExpectData(s_messageLines)
            .Send("250 2.0.0 <a@example.org> Saved")
            .Quit());
        using LmtpClient client = await Connect(async, server);
        Assert.True(client.Capabilities.Pipelining);
        LmtpDeliveryResult result = await Deliver(async, client, "bob@example.org", ["a@example.org", "b@example.org", "c@example.org"], s_message);

        Assert.Equal([LmtpRecipientStatus.Delivered, LmtpRecipientStatus.TemporaryFailure, LmtpRecipientStatus.PermanentFailure], result.Recipients.Select(r => r.Status));
        Assert.Equal("2.0.0", result["a@example.org"].Reply.EnhancedCode);
        Assert.Equal(451, result["b@example.org"].Reply.Code);
        Assert.Equal("5.1.1", result["c@example.org"].Reply.EnhancedCode);
        Assert.Equal("<c@example.org> User doesn't exist", result["c@example.org"].Reply.Text);
        Assert.False(result.AllDelivered);
        Assert.True(client.IsConnected);
        await Quit(async, client);
        await server.VerifyAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Without_pipelining_each_command_waits_for_its_reply(bool async)
    {
        await using var server = ScriptedServer.Start(s => s
            .Lhlo("ENHANCEDSTATUSCODES")
            .Expect("MAIL FROM:<>").ExpectQuiet().Send("250 2.1.0 OK")
            .Expect("RCPT TO:<a@example.org>").ExpectQuiet().Send("250 2.1.5 OK")
            .Expect("RCPT TO:<b@example.org>").ExpectQuiet().Send("250 2.1.5 OK")
            .Expect("DATA").ExpectQuiet().Send("354 go ahead")
            .ExpectData(s_messageLines)
            .Send("250 2.0.0 <a@example.org> Saved", "452 4.2.2 <b@example.org> Mailbox full")
            .Quit());
        using LmtpClient client = await Connect(async, server);
        LmtpDeliveryResult result = await Deliver(async, client, "", ["a@example.org", "b@example.org"], s_message);
        Assert.Equal([LmtpRecipientStatus.Delivered, LmtpRecipientStatus.TemporaryFailure], result.Recipients.Select(r => r.Status));
        Assert.Equal("<b@example.org> Mailbox full", result["b@example.org"].Reply.Text);
        await Quit(async, client);
        await server.VerifyAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Pipelining_can_be_turned_off(bool async)
    {
        await using var server = ScriptedServer.Start(s => s
            .Lhlo("PIPELINING")
            .Expect("MAIL FROM:<>").ExpectQuiet().Send("250 OK")
            .Expect("RCPT TO:<a@example.org>").ExpectQuiet().Send("250 OK")
            .Expect("DATA").ExpectQuiet().Send("354 go ahead")
            .ExpectData(s_messageLines)
            .Send("250 Saved")
            .Quit());
        using LmtpClient client = await Connect(async, server, new LmtpClientOptions { UsePipelining = false });
        Assert.True((await Deliver(async, client, "", ["a@example.org"], s_message)).AllDelivered);
        await Quit(async, client);
        await server.VerifyAsync();
    }

    [Theory]
    [InlineData(false, 552)]
    [InlineData(true, 552)]
    [InlineData(false, 452)]
    [InlineData(true, 452)]
    public async Task A_failure_after_the_data_is_that_recipients_alone(bool async, int code)
    {
        LmtpRecipientStatus status = code >= 500 ? LmtpRecipientStatus.PermanentFailure : LmtpRecipientStatus.TemporaryFailure;
        await using var server = ScriptedServer.Start(s => s
            .Lhlo("PIPELINING")
            .Expect("MAIL FROM:<>").Expect("RCPT TO:<a@x>").Expect("RCPT TO:<b@x>").Expect("DATA")
            .Send("250 OK", "250 OK", "250 OK", "354 go ahead")
            .ExpectData(s_messageLines)
            .Send($"{code} {code / 100}.2.2 over quota", "250 Saved")
            .Quit());
        using LmtpClient client = await Connect(async, server);
        LmtpDeliveryResult result = await Deliver(async, client, "", ["a@x", "b@x"], s_message);
        Assert.Equal([status, LmtpRecipientStatus.Delivered], result.Recipients.Select(r => r.Status));
        Assert.Null(result["a@x"].Reply.EnhancedCode); // not announced: the text is kept as it came
        Assert.Equal($"{code / 100}.2.2 over quota", result["a@x"].Reply.Text);
        await Quit(async, client);
        await server.VerifyAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_refused_mail_or_data_applies_to_every_recipient_and_the_session_goes_on_after_rset(bool async)
    {
        await using var server = ScriptedServer.Start(s => s
            .Lhlo("ENHANCEDSTATUSCODES")
            .On("MAIL FROM:<bob@x>", "451 4.3.0 try later")
            .On("RSET", "250 2.0.0 OK")
            .On("MAIL FROM:<bob@x>", "250 OK")
            .On("RCPT TO:<a@x>", "250 OK")
            .On("RCPT TO:<b@x>", "250 OK")
            .On("DATA", "554 5.6.0 no thanks")
            .On("RSET", "250 2.0.0 OK")
            .On("MAIL FROM:<bob@x>", "250 OK")
            .On("RCPT TO:<a@x>", "550 5.1.1 unknown")
            .On("RSET", "250 2.0.0 OK")
            .On("MAIL FROM:<bob@x>", "250 OK")
            .On("RCPT TO:<a@x>", "250 OK")
            .On("DATA", "354 go")
            .ExpectData(s_messageLines)
            .Send("250 2.0.0 Saved")
            .Quit());
        using LmtpClient client = await Connect(async, server);

        LmtpDeliveryResult mail = await Deliver(async, client, "bob@x", ["a@x", "b@x"], s_message);
        Assert.All(mail.Recipients, r => Assert.Equal(LmtpRecipientStatus.TemporaryFailure, r.Status));
        Assert.All(mail.Recipients, r => Assert.Equal("4.3.0", r.Reply.EnhancedCode));

        LmtpDeliveryResult data = await Deliver(async, client, "bob@x", ["a@x", "b@x"], s_message);
        Assert.All(data.Recipients, r => Assert.Equal(LmtpRecipientStatus.PermanentFailure, r.Status));
        Assert.All(data.Recipients, r => Assert.Equal(554, r.Reply.Code));

        LmtpDeliveryResult none = await Deliver(async, client, "bob@x", ["a@x"], s_message);
        Assert.Equal(LmtpRecipientStatus.PermanentFailure, Assert.Single(none.Recipients).Status);

        Assert.True((await Deliver(async, client, "bob@x", ["a@x"], s_message)).AllDelivered);
        await Quit(async, client);
        await server.VerifyAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_421_fails_what_is_left_and_ends_the_session_without_rset(bool async)
    {
        await using var server = ScriptedServer.Start(s => s
            .Lhlo()
            .On("MAIL FROM:<>", "250 OK")
            .On("RCPT TO:<a@x>", "250 OK")
            .On("RCPT TO:<b@x>", "421 4.3.2 shutting down")
            .Close());
        using LmtpClient client = await Connect(async, server);
        LmtpDeliveryResult result = await Deliver(async, client, "", ["a@x", "b@x", "c@x"], s_message);
        Assert.All(result.Recipients, r => Assert.Equal(LmtpRecipientStatus.TemporaryFailure, r.Status));
        Assert.All(result.Recipients, r => Assert.Equal(421, r.Reply.Code));
        Assert.False(client.IsConnected);
        await Assert.ThrowsAsync<InvalidOperationException>(() => Deliver(async, client, "", ["a@x"], s_message));
        await server.VerifyAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Declares_8bit_and_size_when_offered(bool async)
    {
        byte[] eightBit = Encoding.UTF8.GetBytes("Subject: Grüße\n\nbody\n");
        await using var server = ScriptedServer.Start(s => s
            .Lhlo("PIPELINING", "8BITMIME", "SIZE 10000000")
            .Expect($"MAIL FROM:<> SIZE={s_message.Length}").Expect("RCPT TO:<a@x>").Expect("DATA")
            .Send("250 OK", "250 OK", "354 go")
            .ExpectData(s_messageLines).Send("250 Saved")
            .Expect($"MAIL FROM:<> BODY=8BITMIME SIZE={eightBit.Length + 3}").Expect("RCPT TO:<a@x>").Expect("DATA")
            .Send("250 OK", "250 OK", "354 go")
            .ExpectData("Subject: Grüße", "", "body").Send("250 Saved")
            .Quit());
        using LmtpClient client = await Connect(async, server);
        Assert.Equal(10000000, client.Capabilities.MaxSize);
        Assert.True((await Deliver(async, client, "", ["a@x"], s_message)).AllDelivered);
        Assert.True((await Deliver(async, client, "", ["a@x"], eightBit)).AllDelivered);
        await Quit(async, client);
        await server.VerifyAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Replies_split_into_single_bytes_are_read_whole(bool async)
    {
        await using var server = ScriptedServer.Start(s => s
            .SendRaw("220 ready\r\n", byteByByte: true)
            .Expect("LHLO localhost")
            .SendRaw("250-test.example\r\n250-PIPELINING\r\n250 ENHANCEDSTATUSCODES\r\n", byteByByte: true)
            .Expect("MAIL FROM:<>").Expect("RCPT TO:<a@x>").Expect("DATA")
            .SendRaw("250 2.1.0 OK\r\n250 2.1.5 OK\r\n354 go\r\n", byteByByte: true)
            .ExpectData(s_messageLines)
            .SendRaw("250-2.0.0 first line\r\n250 2.0.0 second line\r\n", byteByByte: true)
            .Quit(), byteByByte: true);
        using LmtpClient client = await Connect(async, server);
        LmtpDeliveryResult result = await Deliver(async, client, "", ["a@x"], s_message);
        LmtpReply reply = Assert.Single(result.Recipients).Reply;
        Assert.Equal(["first line", "second line"], reply.Lines);
        Assert.Equal("250 2.0.0 first line second line", reply.ToString());
        await Quit(async, client);
        await server.VerifyAsync();
    }

    [Theory]
    [InlineData(false, "MAIL FROM:<a@x\r\nRCPT TO:<evil@x>", "a@x")]
    [InlineData(true, "a@x", "b@x>\r\nDATA")]
    [InlineData(false, "a\n@x", "b@x")]
    [InlineData(true, "a@x", "b\0@x")]
    [InlineData(false, "a@x", "")]
    [InlineData(true, "a b@x", "b@x")]
    [InlineData(false, "a@x", "<b@x>")]
    public async Task What_would_break_a_command_line_is_refused_before_anything_is_sent(bool async, string sender, string recipient)
    {
        // The script expects the next message's MAIL right after LHLO: anything sent for the refused one is a mismatch.
        await using var server = ScriptedServer.Start(s => s
            .Lhlo()
            .On("MAIL FROM:<ok@x>", "250 OK")
            .On("RCPT TO:<ok@x>", "250 OK")
            .On("DATA", "354 go")
            .ExpectData(s_messageLines).Send("250 Saved")
            .Quit());
        using LmtpClient client = await Connect(async, server);
        await Assert.ThrowsAsync<ArgumentException>(() => Deliver(async, client, sender, [recipient], s_message));
        Assert.True(client.IsConnected);
        Assert.True((await Deliver(async, client, "ok@x", ["ok@x"], s_message)).AllDelivered);
        await Quit(async, client);
        await server.VerifyAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_utf8_address_without_smtputf8_fails_locally(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.Lhlo("8BITMIME").Quit());
        using LmtpClient client = await Connect(async, server);
        LmtpDeliveryResult result = await Deliver(async, client, "", ["jörg@example.org"], s_message);
        LmtpRecipientResult only = Assert.Single(result.Recipients);
        Assert.Equal(LmtpRecipientStatus.PermanentFailure, only.Status);
        Assert.Equal("5.6.7", only.Reply.EnhancedCode);
        await Quit(async, client);
        await server.VerifyAsync();
    }

    public static TheoryData<bool, string, Type, string> BrokenReplies
    {
        get
        {
            (string Reply, Type Error, string Says)[] cases =
            [
                ("hello there", typeof(LmtpProtocolException), "not a reply"),
                ("25", typeof(LmtpProtocolException), "not a reply"),
                ("250x", typeof(LmtpProtocolException), "not a reply"),
                ("150 what", typeof(LmtpProtocolException), "not a reply"),
                ("250-one\r\n251 two", typeof(LmtpProtocolException), "changed the code"),
                ("354 not now", typeof(LmtpProtocolException), "not a reply MAIL can have"),
                ("250 " + new string('x', 3000), typeof(LmtpLimitExceededException), "MaxReplyLineLength"),
                (string.Concat(Enumerable.Repeat("250-more\r\n", 1000)) + "250 end", typeof(LmtpLimitExceededException), "MaxReplyLines"),
            ];
            var data = new TheoryData<bool, string, Type, string>();
            foreach (bool async in new[] { false, true })
            {
                foreach (var (reply, error, says) in cases)
                    data.Add(async, reply, error, says);
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(BrokenReplies))]
    public async Task A_broken_reply_closes_the_session_with_a_typed_error(bool async, string reply, Type error, string says)
    {
        await using var server = ScriptedServer.Start(s => s
            .Lhlo()
            .Expect("MAIL FROM:<>").Send(reply)
            .ExpectHangUp());
        using LmtpClient client = await Connect(async, server);
        Exception e = await Record.ExceptionAsync(() => Deliver(async, client, "", ["a@x"], s_message));
        Assert.IsType(error, e);
        Assert.Contains(says, e.Message);
        Assert.DoesNotContain("\r", e.Message);
        Assert.False(client.IsConnected);
        await server.VerifyAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_server_that_never_greets_times_out(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.Delay(TimeSpan.FromSeconds(5)));
        var started = System.Diagnostics.Stopwatch.StartNew();
        await Assert.ThrowsAsync<TimeoutException>(() => Connect(async, server, s_short));
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(4), $"took {started.Elapsed}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_server_that_stops_answering_times_out_and_the_session_closes(bool async)
    {
        await using var server = ScriptedServer.Start(s => s
            .Lhlo()
            .Expect("MAIL FROM:<>")
            .Delay(TimeSpan.FromSeconds(5)));
        using LmtpClient client = await Connect(async, server, s_short);
        var started = System.Diagnostics.Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<TimeoutException>(() => Deliver(async, client, "", ["a@x"], s_message));
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(4), $"took {started.Elapsed}");
        Assert.Contains("0.5 s", e.Message);
        Assert.False(client.IsConnected);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_server_that_dribbles_a_reply_is_stopped_by_the_reply_deadline(bool async)
    {
        // Each byte arrives well within any per-read wait, but the whole reply does not arrive in time.
        await using var server = ScriptedServer.Start(s => s
            .Lhlo()
            .Expect("MAIL FROM:<>")
            .Do(async (stream, ct) =>
            {
                foreach (byte b in Encoding.ASCII.GetBytes("250 " + new string('x', 100)))
                {
                    await stream.WriteAsync(new[] { b }, ct);
                    await Task.Delay(50, ct);
                }
            }));
        using LmtpClient client = await Connect(async, server, s_short);
        await Assert.ThrowsAsync<TimeoutException>(() => Deliver(async, client, "", ["a@x"], s_message));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_connection_closed_in_the_middle_of_data_is_a_protocol_error(bool async)
    {
        byte[] big = Encoding.ASCII.GetBytes("Subject: big\r\n\r\n" + string.Concat(Enumerable.Repeat(new string('y', 998) + "\r\n", 8000)));
        await using var server = ScriptedServer.Start(s => s
            .Lhlo("PIPELINING")
            .Expect("MAIL FROM:<>").Expect("RCPT TO:<a@x>").Expect("DATA")
            .Send("250 OK", "250 OK", "354 go")
            .Expect("Subject: big")
            .Close());
        using LmtpClient client = await Connect(async, server, new LmtpClientOptions { Timeout = TimeSpan.FromSeconds(5) });
        var started = System.Diagnostics.Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<LmtpProtocolException>(() => Deliver(async, client, "", ["a@x"], big));
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(4), $"took {started.Elapsed}: the close was not noticed");
        Assert.Contains("127.0.0.1", e.Message);
        Assert.False(client.IsConnected);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_refusing_greeting_is_a_refused_session(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.Send("554 5.3.2 go away").ExpectHangUp());
        var e = await Assert.ThrowsAsync<LmtpSessionRefusedException>(() => Connect(async, server));
        Assert.Equal(554, e.Reply.Code);
        await server.VerifyAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Nothing_listening_is_a_socket_error(bool async)
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        await Assert.ThrowsAsync<System.Net.Sockets.SocketException>(() => Connect(async, LmtpEndpoint.Tcp("127.0.0.1", port)));
        await Assert.ThrowsAsync<System.Net.Sockets.SocketException>(() => Connect(async, LmtpEndpoint.Parse("unix:/nonexistent/lmtp.sock")));
    }
}
