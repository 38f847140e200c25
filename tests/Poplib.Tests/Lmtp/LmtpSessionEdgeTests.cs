using System.Text;
using Poplib.Fetch.Delivery.Lmtp;
using Poplib.Tests.Infrastructure;
using static Poplib.Tests.Lmtp.LmtpTestPaths;

namespace Poplib.Tests.Lmtp;

/// <summary>The LMTP session's edges: replies lost after the data, cancellation, refused LHLO, streams that cannot seek, limits.</summary>
public class LmtpSessionEdgeTests
{
    private static readonly byte[] s_message = Encoding.ASCII.GetBytes("Subject: hi\r\n\r\nbody\r\n");
    private static readonly string[] s_messageLines = ["Subject: hi", "", "body"];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_connection_lost_among_the_final_replies_says_whose_outcome_is_unknown(bool async)
    {
        await using var server = ScriptedServer.Start(s => s
            .Lhlo("PIPELINING", "ENHANCEDSTATUSCODES")
            .Expect("MAIL FROM:<>").Expect("RCPT TO:<a@x>").Expect("RCPT TO:<b@x>").Expect("RCPT TO:<c@x>").Expect("DATA")
            .Send("250 2.1.0 OK", "250 2.1.5 OK", "550 5.1.1 unknown", "250 2.1.5 OK", "354 go")
            .ExpectData(s_messageLines)
            .Send("250 2.0.0 a saved")
            .Close());
        using LmtpClient client = await Connect(async, server);
        var e = await Assert.ThrowsAsync<LmtpDeliveryInterruptedException>(() => Deliver(async, client, "", ["a@x", "b@x", "c@x"], s_message));
        Assert.Equal("a@x", Assert.Single(e.Known).Recipient);
        Assert.Equal(LmtpRecipientStatus.Delivered, e.Known[0].Status);
        Assert.Equal(["c@x"], e.Unknown);
        Assert.IsType<LmtpProtocolException>(e.InnerException);
        Assert.False(client.IsConnected);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_server_silent_after_the_data_is_bounded_by_the_data_timeout(bool async)
    {
        await using var server = ScriptedServer.Start(s => s
            .Lhlo()
            .On("MAIL FROM:<>", "250 OK").On("RCPT TO:<a@x>", "250 OK").On("DATA", "354 go")
            .ExpectData(s_messageLines)
            .Delay(TimeSpan.FromSeconds(5)));
        var options = new LmtpClientOptions { Timeout = TimeSpan.FromSeconds(5), DataTimeout = TimeSpan.FromMilliseconds(300) };
        using LmtpClient client = await Connect(async, server, options);
        var started = System.Diagnostics.Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<LmtpDeliveryInterruptedException>(() => Deliver(async, client, "", ["a@x"], s_message));
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(3), $"took {started.Elapsed}");
        Assert.IsType<TimeoutException>(e.InnerException);
        Assert.Equal(["a@x"], e.Unknown);
    }

    [Fact]
    public async Task Cancelling_a_wait_closes_the_session_and_says_so()
    {
        await using var server = ScriptedServer.Start(s => s
            .Lhlo()
            .Expect("MAIL FROM:<>")
            .Delay(TimeSpan.FromSeconds(5)));
        using LmtpClient client = await LmtpClient.ConnectAsync(LmtpEndpoint.Tcp("127.0.0.1", server.Port));
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.DeliverAsync("", ["a@x"], new MemoryStream(s_message), cancel.Token));
        Assert.False(client.IsConnected);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_refused_lhlo_is_a_refused_session(bool async)
    {
        await using var server = ScriptedServer.Start(s => s
            .Send("220 ready")
            .On("LHLO localhost", "500 5.5.1 speak SMTP")
            .ExpectHangUp());
        var e = await Assert.ThrowsAsync<LmtpSessionRefusedException>(() => Connect(async, server));
        Assert.Equal(500, e.Reply.Code);
        Assert.Contains("LHLO", e.Message);
        await server.VerifyAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_stream_that_cannot_seek_is_declared_8bit_without_a_size(bool async)
    {
        await using var server = ScriptedServer.Start(s => s
            .Lhlo("8BITMIME", "SIZE")
            .On("MAIL FROM:<> BODY=8BITMIME", "250 OK").On("RCPT TO:<a@x>", "250 OK").On("DATA", "354 go")
            .ExpectData(s_messageLines).Send("250 Saved")
            .Quit());
        using LmtpClient client = await Connect(async, server);
        Assert.Null(client.Capabilities.MaxSize);
        using var forwardOnly = new ForwardOnlyStream(s_message);
        LmtpDeliveryResult result = async
            ? await client.DeliverAsync("", ["a@x"], forwardOnly)
            : client.Deliver("", ["a@x"], forwardOnly);
        Assert.True(result.AllDelivered);
        await Quit(async, client);
        await server.VerifyAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_sloppy_354_with_no_recipient_accepted_gets_an_empty_message_and_rset(bool async)
    {
        await using var server = ScriptedServer.Start(s => s
            .Lhlo("PIPELINING")
            .Expect("MAIL FROM:<>").Expect("RCPT TO:<a@x>").Expect("DATA")
            .Send("250 OK", "550 no", "354 go anyway")
            .Expect(".").Send("554 no valid recipients")
            .On("RSET", "250 OK")
            .Quit());
        using LmtpClient client = await Connect(async, server);
        LmtpDeliveryResult result = await Deliver(async, client, "", ["a@x"], s_message);
        Assert.Equal(LmtpRecipientStatus.PermanentFailure, Assert.Single(result.Recipients).Status);
        await Quit(async, client);
        await server.VerifyAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task More_recipients_than_the_limit_or_none_are_usage_errors(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.Lhlo().Quit());
        using LmtpClient client = await Connect(async, server, new LmtpClientOptions { MaxRecipients = 2 });
        var e = await Assert.ThrowsAsync<ArgumentException>(() => Deliver(async, client, "", ["a@x", "b@x", "c@x"], s_message));
        Assert.Contains("MaxRecipients", e.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => Deliver(async, client, "", [], s_message));
        await Quit(async, client);
        await server.VerifyAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Replies_with_bare_lf_and_without_text_are_read(bool async)
    {
        await using var server = ScriptedServer.Start(s => s
            .SendRaw("220\n")
            .Expect("LHLO localhost").SendRaw("250-test\n250 PIPELINING\n")
            .Expect("MAIL FROM:<>").Expect("RCPT TO:<a@x>").Expect("DATA")
            .SendRaw("250\n250\n354\n")
            .ExpectData(s_messageLines).SendRaw("250\n")
            .Quit());
        using LmtpClient client = await Connect(async, server);
        Assert.True(client.Capabilities.Pipelining);
        LmtpReply reply = Assert.Single((await Deliver(async, client, "", ["a@x"], s_message)).Recipients).Reply;
        Assert.Equal("250", reply.ToString());
        Assert.Equal("", reply.Text);
        await Quit(async, client);
        await server.VerifyAsync();
    }

    [Fact]
    public void Options_out_of_range_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => LmtpClient.Connect(LmtpEndpoint.Tcp("127.0.0.1", 1), new LmtpClientOptions { Timeout = TimeSpan.Zero }));
        Assert.Throws<ArgumentOutOfRangeException>(() => LmtpClient.Connect(LmtpEndpoint.Tcp("127.0.0.1", 1), new LmtpClientOptions { MaxReplyLineLength = 100 }));
        Assert.Throws<ArgumentException>(() => LmtpClient.Connect(LmtpEndpoint.Tcp("127.0.0.1", 1), new LmtpClientOptions { LocalName = "a\r\nb" }));
    }

    private sealed class ForwardOnlyStream(byte[] content) : MemoryStream(content)
    {
        public override bool CanSeek => false;
    }
}
