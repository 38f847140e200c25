using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using Poplib.Testing.Tests.Infrastructure;

namespace Poplib.Testing.Tests.Faults;

/// <summary>
/// The quirks of the real servers in the interop suite (docs/interop.md), each a fault: what the test
/// server then does on the wire, and that the real Poplib client copes — so the fast suite guards
/// them too.
/// </summary>
public class ServerQuirkTests
{
    private static Pop3TestServer StartWith(params Pop3Fault[] faults) =>
        TestServer.Start(new Pop3TestServerOptions { Faults = faults });

    [Fact]
    public async Task BareStatusLines_answers_plus_ok_and_minus_err_with_nothing_after_them()
    {
        await using Pop3TestServer server = StartWith(new BareStatusLines());
        using RawConnection raw = await RawConnection.OpenAsync(server);
        Assert.Equal("+OK", await raw.ReadLineAsync());
        await raw.SendAsync("USER alice\r\nPASS secret\r\nRETR 1\r\n");
        Assert.Equal("+OK", await raw.ReadLineAsync());
        Assert.Equal("+OK", await raw.ReadLineAsync());
        Assert.Equal("+OK", (await raw.ReadMultiLineAsync())[0]);
        await raw.SendAsync("LIST 99\r\nDELE 1\r\nSTAT\r\nLIST 2\r\nUIDL 2\r\n");
        Assert.Equal("-ERR", await raw.ReadLineAsync());
        Assert.Equal("+OK", await raw.ReadLineAsync());
        Assert.StartsWith("+OK 2 ", await raw.ReadLineAsync()); // the numbers are the answer
        Assert.StartsWith("+OK 2 ", await raw.ReadLineAsync());
        Assert.Equal("+OK 2 msg-2", await raw.ReadLineAsync());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Like_popa3d_bare_replies_and_no_capa_the_client_logs_in_with_user_pass_and_reads_everything(bool async)
    {
        await using Pop3TestServer server = TestServer.Start(new Pop3TestServerOptions
        {
            Tls = Pop3TlsMode.None,
            Faults = [new BareStatusLines(), new CommandNotSupported("CAPA")],
        });
        using Pop3Client client = await TestServer.Connect(async, server);
        Assert.Equal("+OK", client.Welcome);
        Assert.Null(client.ApopTimestamp);
        Assert.False(client.Capabilities.IsSupported);
        await Assert.ThrowsAsync<NotSupportedException>(() => Both.Run(async, () => client.Stls(), () => client.StlsAsync()));

        await Both.Run(async, () => client.Login(TestServer.User, TestServer.Password), () => client.LoginAsync(TestServer.User, TestServer.Password));
        Assert.Equal("USER/PASS", client.AuthenticationMethod);
        Pop3Message first = await Both.Run(async, () => client.Retr(1), () => client.RetrAsync(1));
        Assert.Equal("+OK", first.Response.Line);
        Assert.Equal(TestServer.Crlf(TestServer.SampleMessages[0]), first.ToArray());
        var missing = await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, () => client.List(99), () => client.ListAsync(99)));
        Assert.Equal("", missing.ResponseText);
        Assert.True(client.IsConnected);
        await TestServer.AssertServes(async, client, [.. TestServer.SampleMessages.Select(m => Encoding.ASCII.GetString(TestServer.Crlf(m)))]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SuccessLine_words_replies_as_cyrus_and_solid_pop3d_do_and_the_client_takes_them(bool async)
    {
        await using Pop3TestServer server = StartWith(
            new SuccessLine("PASS", "+OK Mailbox locked and ready SESSIONID=<cyrus-1796612099-11224-1-161367>"),
            new SuccessLine("RETR", "+OK Message follows"),
            new SuccessLine("TOP", "+OK "));
        using Pop3Client client = await TestServer.Connect(async, server);
        await Both.Run(async, () => client.User(TestServer.User), () => client.UserAsync(TestServer.User));
        Pop3Response pass = await Both.Run(async, () => client.Pass(TestServer.Password), () => client.PassAsync(TestServer.Password));
        Assert.Equal("+OK Mailbox locked and ready SESSIONID=<cyrus-1796612099-11224-1-161367>", pass.Line);
        Assert.True(client.IsAuthenticated);

        Pop3Message retr = await Both.Run(async, () => client.Retr(2), () => client.RetrAsync(2));
        Assert.Equal("+OK Message follows", retr.Response.Line);
        Assert.Equal(TestServer.Crlf(TestServer.SampleMessages[1]), retr.ToArray());
        Pop3Message top = await Both.Run(async, () => client.Top(1, 0), () => client.TopAsync(1, 0));
        Assert.Equal("+OK ", top.Response.Line); // solid-pop3d's trailing space, kept as sent
        Assert.True(top.Response.IsOk);
        Assert.Equal("From: a@example.org\r\nSubject: one\r\n\r\n", Encoding.ASCII.GetString(top.Content.Span));
        Assert.Equal("+OK", (await Both.Run(async, client.Noop, () => client.NoopAsync())).Line); // other commands as before
    }

    [Fact]
    public void SuccessLine_must_be_a_success()
    {
        Assert.Throws<ArgumentException>(() => Pop3TestServer.Start(new Pop3TestServerOptions { Faults = [new SuccessLine("TOP", "-ERR no")] }));
        Assert.Throws<ArgumentException>(() => Pop3TestServer.Start(new Pop3TestServerOptions { Faults = [new SuccessLine("TOP", "+OK\r\n+OK")] }));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task CapabilityLines_like_gnu_pop3d_expirenever_and_stls_after_login_which_the_client_refuses(bool async)
    {
        await using Pop3TestServer server = StartWith(new CapabilityLines(["TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE", "EXPIRENEVER", "USER", "STLS"]));
        using Pop3Client client = await TestServer.Connect(async, server);
        Assert.Equal(new Pop3ExpirePolicy(Never: true, Days: 0, PerUser: false), client.Capabilities.Expire);
        Assert.Empty(client.Capabilities.SaslMechanisms);

        await Both.Run(async, () => client.Login(TestServer.User, TestServer.Password), () => client.LoginAsync(TestServer.User, TestServer.Password));
        Assert.Equal("APOP", client.AuthenticationMethod); // as against GNU pop3d: no SASL, a timestamp
        Assert.True(client.Capabilities.Stls && client.Capabilities.User); // still listed after login
        await Assert.ThrowsAsync<InvalidOperationException>(() => Both.Run(async, () => client.Stls(), () => client.StlsAsync()));
        Assert.Equal(3, (await Both.Run(async, client.Stat, () => client.StatAsync())).Count); // nothing was sent: still in step
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task XUidlHeader_changes_sizes_within_the_session_and_the_client_takes_what_retr_sends(bool async)
    {
        await using Pop3TestServer server = StartWith(new XUidlHeader());
        using (Pop3Client client = await TestServer.LogIn(async, server))
        {
            IReadOnlyList<Pop3ListEntry> before = await Both.Run(async, client.List, () => client.ListAsync());
            Assert.Equal(TestServer.SampleMessages.Select((m, i) => new Pop3ListEntry(i + 1, TestServer.Crlf(m).Length)), before);
            Pop3Message plain = await Both.Run(async, () => client.Retr(1), () => client.RetrAsync(1));
            Assert.Equal(TestServer.Crlf(TestServer.SampleMessages[0]), plain.ToArray()); // nothing told yet

            Pop3UidlEntry told = await Both.Run(async, () => client.Uidl(1), () => client.UidlAsync(1));
            Pop3Message first = await Both.Run(async, () => client.Retr(1), () => client.RetrAsync(1));
            Assert.Equal("From: a@example.org\r\nSubject: one\r\nX-UIDL: msg-1\r\n\r\nHello.\r\n", Encoding.ASCII.GetString(first.Content.Span));
            Assert.Equal("msg-1", told.Uid);
            Assert.Equal(before[0].Size + "X-UIDL: msg-1\r\n".Length, (await Both.Run(async, () => client.List(1), () => client.ListAsync(1))).Size);
            Assert.Equal(before[1], await Both.Run(async, () => client.List(2), () => client.ListAsync(2))); // not told: unchanged

            await Both.Run(async, client.Uidl, () => client.UidlAsync());
            IReadOnlyList<Pop3ListEntry> after = await Both.Run(async, client.List, () => client.ListAsync());
            Assert.Equal(before.Select(e => e.Size + $"X-UIDL: msg-{e.Number}\r\n".Length).ToArray(), after.Select(e => e.Size).ToArray());
            Assert.Equal(after.Sum(e => e.Size), (await Both.Run(async, client.Stat, () => client.StatAsync())).Size);
            Pop3Message top = await Both.Run(async, () => client.Top(3, 0), () => client.TopAsync(3, 0));
            Assert.Contains("X-UIDL: msg-3\r\n\r\n", Encoding.ASCII.GetString(top.Content.Span), StringComparison.Ordinal);
            await Both.Run(async, client.Quit, () => client.QuitAsync());
        }

        // For good: the next session reports the longer messages from the start.
        using Pop3Client again = await TestServer.LogIn(async, server);
        Assert.Equal(TestServer.SampleMessages.Select((m, i) => (long)(TestServer.Crlf(m).Length + $"X-UIDL: msg-{i + 1}\r\n".Length)).ToArray(), (await again.ListAsync()).Select(e => e.Size).ToArray());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TopExtraBlankLine_sends_one_line_more_and_the_client_drops_it_and_says_so(bool async)
    {
        await using Pop3TestServer server = StartWith(new TopExtraBlankLine());
        using (RawConnection raw = await RawConnection.OpenAsync(server))
        {
            await raw.ReadLineAsync();
            await raw.SendAsync("USER alice\r\nPASS secret\r\nTOP 3 2\r\n");
            await raw.ReadLineAsync();
            await raw.ReadLineAsync();
            Assert.Equal(["+OK", "From: c@example.org", "Subject: three", "", "", "line 1", "line 2", "."], await raw.ReadMultiLineAsync());
        }

        using Pop3Client client = await TestServer.LogIn(async, server);
        Pop3Message two = await Both.Run(async, () => client.Top(3, 2), () => client.TopAsync(3, 2));
        Assert.Equal("From: c@example.org\r\nSubject: three\r\n\r\n\r\nline 1\r\n", Encoding.ASCII.GetString(two.Content.Span));
        Assert.True(two.ExcessDiscarded);
        Pop3Message none = await Both.Run(async, () => client.Top(3, 0), () => client.TopAsync(3, 0));
        Assert.Equal("From: c@example.org\r\nSubject: three\r\n\r\n", Encoding.ASCII.GetString(none.Content.Span));
        Assert.False(none.ExcessDiscarded);
        Assert.Equal(TestServer.Crlf(TestServer.SampleMessages[2]), (await Both.Run(async, () => client.Retr(3), () => client.RetrAsync(3))).ToArray());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task QuotedFromLines_serves_the_mboxrd_quoting_and_counts_it(bool async)
    {
        byte[] message = "From: a@example.org\nSubject: quoted\n\nFrom the start\n>From quoted once\nFromage\n"u8.ToArray();
        await using Pop3TestServer server = TestServer.Start(new Pop3TestServerOptions { Faults = [new QuotedFromLines()] }, [message]);
        using Pop3Client client = await TestServer.LogIn(async, server);
        const string Served = "From: a@example.org\r\nSubject: quoted\r\n\r\n>From the start\r\n>>From quoted once\r\nFromage\r\n";
        Assert.Equal(Served, Encoding.ASCII.GetString((await Both.Run(async, () => client.Retr(1), () => client.RetrAsync(1))).Content.Span));
        Assert.Equal(Served.Length, (await Both.Run(async, () => client.List(1), () => client.ListAsync(1))).Size);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ShuffledNumbers_renumbers_each_session_and_uidls_follow_their_messages(bool async)
    {
        byte[][] messages = [.. Enumerable.Range(1, 12).Select(i => Encoding.ASCII.GetBytes($"Subject: {i}\n\nbody {i}\n"))];
        await using Pop3TestServer server = TestServer.Start(new Pop3TestServerOptions { Faults = [new ShuffledNumbers(7)] }, messages);
        var sessions = new List<string[]>();
        for (int i = 0; i < 2; i++)
        {
            using Pop3Client client = await TestServer.LogIn(async, server);
            IReadOnlyList<Pop3UidlEntry> uids = await Both.Run(async, client.Uidl, () => client.UidlAsync());
            sessions.Add([.. uids.Select(u => u.Uid)]);
            foreach (Pop3UidlEntry uid in uids)
            {
                string body = Encoding.ASCII.GetString((await Both.Run(async, () => client.Retr(uid.Number), () => client.RetrAsync(uid.Number))).Content.Span);
                Assert.Equal($"Subject: {uid.Uid[4..]}\r\n\r\nbody {uid.Uid[4..]}\r\n", body); // msg-N is the Nth message
            }

            await Both.Run(async, client.Quit, () => client.QuitAsync());
        }

        Assert.NotEqual(sessions[0], sessions[1]);
        Assert.Equal(sessions[0].Order(StringComparer.Ordinal), sessions[1].Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DisconnectAfterErrors_closes_after_the_nth_error_commits_nothing_and_the_client_says_so(bool async)
    {
        await using Pop3TestServer server = TestServer.Start(out Pop3MemoryMailbox mailbox, new Pop3TestServerOptions { Faults = [new DisconnectAfterErrors(3), new CommandNotSupported("CAPA")] });
        using (Pop3Client client = await TestServer.LogIn(async, server))
        {
            // CAPA at connect was the first -ERR.
            await Both.Run(async, () => client.Dele(1), () => client.DeleAsync(1));
            await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, () => client.List(99), () => client.ListAsync(99)));
            await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, () => client.List(99), () => client.ListAsync(99)));
            Exception closed = await Assert.ThrowsAnyAsync<Exception>(() => Both.Run(async, client.Noop, () => client.NoopAsync()));
            Assert.True(closed is Pop3ProtocolException or IOException, closed.ToString()); // the end of the connection, or its reset
            Assert.False(client.IsConnected);
        }

        await Protocol.DeletionTests.Eventually(() => server.ActiveSessions == 0);
        Assert.Equal(3, mailbox.Count);
    }

    [Fact]
    public async Task StlsFailsAfterOk_sends_an_alert_and_plain_text_and_goes_on_in_plain_text()
    {
        await using Pop3TestServer server = StartWith(new StlsFailsAfterOk());
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.EndPoint);
        NetworkStream stream = tcp.GetStream();
        var reader = new StreamReader(stream, Encoding.Latin1);
        await reader.ReadLineAsync();
        await stream.WriteAsync("STLS\r\n"u8.ToArray());
        Assert.Equal("+OK Begin TLS negotiation now.", await reader.ReadLineAsync());
        await stream.WriteAsync(new byte[] { 0x16, 0x03, 0x01, 0x00, 0x03, 1, 2, 3 }); // a TLS record
        Assert.Equal("\u0015\u0003\u0003\0\u0002\u0001\0-ERR STARTTLS failed: No supported cipher suites have been found.", await reader.ReadLineAsync());
        await stream.WriteAsync("CAPA\r\n"u8.ToArray());
        Assert.Equal("+OK Capability list follows", await reader.ReadLineAsync()); // in plain text again
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task StlsFailsAfterOk_the_client_fails_closed_and_quotes_the_server(bool async)
    {
        await using Pop3TestServer server = StartWith(new StlsFailsAfterOk("STARTTLS failed: no certificate"));
        using Pop3Client client = await TestServer.Connect(async, server);
        var error = await Assert.ThrowsAsync<AuthenticationException>(() => Both.Run(async, () => client.Stls(), () => client.StlsAsync()));
        Assert.Contains("\"-ERR STARTTLS failed: no certificate\"", error.Message, StringComparison.Ordinal);
        Assert.False(client.IsConnected);
        Assert.False(client.IsEncrypted);
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task SplitReplies_stalls_a_lockstep_client_that_acknowledges_late()
    {
        // The fault reproduces what it models: a plain socket, lockstep, without TCP_QUICKACK, waits for
        // its delayed ACK on (nearly) every reply.
        await using Pop3TestServer server = StartWith(new SplitReplies());
        using var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(server.EndPoint);
        using var reader = new StreamReader(tcp.GetStream(), Encoding.ASCII);
        await reader.ReadLineAsync();
        await tcp.GetStream().WriteAsync("USER alice\r\nPASS secret\r\n"u8.ToArray());
        await reader.ReadLineAsync();
        await reader.ReadLineAsync();
        var times = new List<double>();
        for (int i = 0; i < 40; i++)
        {
            long start = Stopwatch.GetTimestamp();
            await tcp.GetStream().WriteAsync("RETR 2\r\n"u8.ToArray());
            while (await reader.ReadLineAsync() != ".")
            {
            }

            times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }

        Assert.True(Median(times) > 20, $"median {Median(times):F1} ms: the fault does not reproduce the delayed-ACK stall");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SplitReplies_the_client_goes_lockstep_without_waiting_for_its_delayed_ack(bool async)
    {
        await using Pop3TestServer server = StartWith(new SplitReplies());
        using Pop3Client client = await TestServer.LogIn(async, server);
        var times = new List<double>();
        for (int i = 0; i < 40; i++)
        {
            long start = Stopwatch.GetTimestamp();
            await Both.Run(async, () => client.Retr(2), () => client.RetrAsync(2));
            times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }

        Assert.True(Median(times) < 10, $"median lockstep RETR {Median(times):F1} ms: the client waits for its delayed ACK (TCP_QUICKACK)");
    }

    private static double Median(List<double> times) => times.Order().ElementAt(times.Count / 2);
}
