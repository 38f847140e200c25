using System.Security.Authentication;
using System.Text;
using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.Interop;

/// <summary>The whole poplib command set against a real Dovecot, sync and async.</summary>
[Collection(nameof(DovecotCollection))]
public class DovecotTests(DovecotFixture fixture)
{
    private DovecotInstance Dovecot => fixture.Server;

    /// <summary>USER, PASS, and a STAT that must count <paramref name="expectedMessages"/>.</summary>
    internal static async Task UserPassAndStat(bool async, Pop3Client client, string user, string password, int expectedMessages)
    {
        await Both.Run(async, () => client.User(user), () => client.UserAsync(user));
        await Both.Run(async, () => client.Pass(password), () => client.PassAsync(password));
        Assert.Equal(expectedMessages, (await Both.Run(async, client.Stat, () => client.StatAsync())).Count);
    }

    private async Task<Pop3Client> LoginPlain(bool async, string user, string password)
    {
        Pop3Client client = await Both.Connect(async, Dovecot.PlainPort, Dovecot.Options(allowInsecure: true));
        await Both.Run(async, () => client.User(user), () => client.UserAsync(user));
        await Both.Run(async, () => client.Pass(password), () => client.PassAsync(password));
        return client;
    }

    [DovecotTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Greeting_and_capabilities(bool async)
    {
        using Pop3Client client = await Both.Connect(async, Dovecot.PlainPort, Dovecot.Options());
        Assert.StartsWith("+OK", client.Welcome);
        Assert.NotNull(client.ApopTimestamp);
        Pop3Capabilities caps = client.Capabilities;
        Assert.True(caps.IsSupported);
        Assert.True(caps.Top && caps.Uidl && caps.User && caps.Stls && caps.Pipelining && caps.ResponseCodes);
        Assert.Contains("PLAIN", caps.SaslMechanisms);
        await Both.Run(async, () => client.Quit(), () => client.QuitAsync());
    }

    [DovecotTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Every_read_command_returns_what_the_mailbox_holds(bool async)
    {
        byte[][] messages = [SampleMail.Message(1), SampleMail.Tricky(), SampleMail.Message(3, "short\r\n")];
        var (user, password) = Dovecot.AddUser(messages);
        using Pop3Client client = await LoginPlain(async, user, password);

        Assert.Equal(Pop3SessionState.Transaction, client.State);
        Pop3MailboxStatus stat = await Both.Run(async, client.Stat, () => client.StatAsync());
        Assert.Equal(new Pop3MailboxStatus(3, messages.Sum(m => (long)m.Length)), stat);

        IReadOnlyList<Pop3ListEntry> list = await Both.Run(async, client.List, () => client.ListAsync());
        Assert.Equal(messages.Select((m, i) => new Pop3ListEntry(i + 1, m.Length)), list);
        Assert.Equal(new Pop3ListEntry(2, messages[1].Length), await Both.Run(async, () => client.List(2), () => client.ListAsync(2)));

        IReadOnlyList<Pop3UidlEntry> uidl = await Both.Run(async, client.Uidl, () => client.UidlAsync());
        Assert.Equal([1, 2, 3], uidl.Select(u => u.Number));
        Assert.Equal(3, uidl.Select(u => u.Uid).Distinct().Count());
        Assert.Equal(uidl[1], await Both.Run(async, () => client.Uidl(2), () => client.UidlAsync(2)));

        for (int i = 0; i < messages.Length; i++)
        {
            Pop3Message whole = await Both.Run(async, () => client.Retr(i + 1), () => client.RetrAsync(i + 1));
            Assert.Equal(messages[i], whole.ToArray());
            var sink = new MemoryStream();
            await Both.Run(async, () => client.RetrTo(i + 1, sink), () => client.RetrToAsync(i + 1, sink));
            Assert.Equal(messages[i], sink.ToArray());
            await using Pop3MessageStream stream = await Both.Run(async, () => client.OpenRetr(i + 1), () => client.OpenRetrAsync(i + 1));
            var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            Assert.Equal(messages[i], copy.ToArray());
        }

        // TOP 2 0: the header and the blank line only; TOP 2 2: two body lines more.
        string tricky = Encoding.UTF8.GetString(messages[1]);
        int headerEnd = tricky.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
        Pop3Message head = await Both.Run(async, () => client.Top(2, 0), () => client.TopAsync(2, 0));
        Assert.Equal(tricky[..headerEnd], Encoding.UTF8.GetString(head.Content.Span));
        Assert.False(head.ExcessDiscarded); // Dovecot sends what TOP asks for, no more
        var top2 = new MemoryStream();
        await Both.Run(async, () => client.TopTo(2, 2, top2), () => client.TopToAsync(2, 2, top2));
        Assert.Equal(tricky[..headerEnd] + ".starts with a dot\r\n.\r\n", Encoding.UTF8.GetString(top2.ToArray()));

        await Both.Run(async, client.Noop, () => client.NoopAsync());
        await Both.Run(async, client.Quit, () => client.QuitAsync());
    }

    [DovecotTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Dele_rset_quit_semantics_hold_across_reconnects(bool async)
    {
        byte[][] messages = [SampleMail.Message(1), SampleMail.Message(2), SampleMail.Message(3), SampleMail.Message(4)];
        var (user, password) = Dovecot.AddUser(messages);

        // DELE then RSET then QUIT: nothing deleted.
        using (Pop3Client client = await LoginPlain(async, user, password))
        {
            await Both.Run(async, () => client.Dele(1), () => client.DeleAsync(1));
            await Both.Run(async, client.Rset, () => client.RsetAsync());
            await Both.Run(async, client.Quit, () => client.QuitAsync());
        }

        // DELE then Dispose without QUIT: nothing deleted.
        using (Pop3Client client = await LoginPlain(async, user, password))
        {
            Assert.Equal(4, (await Both.Run(async, client.Stat, () => client.StatAsync())).Count);
            await Both.Run(async, () => client.Dele(2), () => client.DeleAsync(2));
        }

        // DELE 2 then QUIT: message 2 is gone; the listing shows the gap until QUIT.
        using (Pop3Client client = await LoginPlain(async, user, password))
        {
            Assert.Equal(4, (await Both.Run(async, client.Stat, () => client.StatAsync())).Count);
            await Both.Run(async, () => client.Dele(2), () => client.DeleAsync(2));
            Assert.Equal([1, 3, 4], (await Both.Run(async, client.List, () => client.ListAsync())).Select(e => e.Number));
            Assert.Equal([1, 3, 4], (await Both.Run(async, client.Uidl, () => client.UidlAsync())).Select(e => e.Number));
            Assert.Equal(new Pop3MailboxStatus(3, messages.Where((_, i) => i != 1).Sum(m => (long)m.Length)), await Both.Run(async, client.Stat, () => client.StatAsync()));
            Assert.Equal([1, 3, 4], (await Both.Run(async, client.List, () => client.ListAsync())).Select(e => e.Number));
            var gone = await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, () => client.Retr(2), () => client.RetrAsync(2)));
            Assert.Equal("RETR", gone.Command);
            await Both.Run(async, client.Quit, () => client.QuitAsync());
        }

        using (Pop3Client client = await LoginPlain(async, user, password))
        {
            Assert.Equal(3, (await Both.Run(async, client.Stat, () => client.StatAsync())).Count);
            Assert.Equal(messages[2], (await Both.Run(async, () => client.Retr(2), () => client.RetrAsync(2))).ToArray());
            await Both.Run(async, client.Quit, () => client.QuitAsync());
        }
    }

    [DovecotTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Implicit_tls_verifies_and_logs_in_without_opt_in(bool async)
    {
        var (user, password) = Dovecot.AddUser([SampleMail.Message(1)]);
        using Pop3Client client = await Both.ConnectSsl(async, "localhost", Dovecot.TlsPort, Dovecot.Options());
        Assert.True(client.IsEncrypted);
        await UserPassAndStat(async, client, user, password, expectedMessages: 1);
        await Both.Run(async, client.Quit, () => client.QuitAsync());
    }

    [DovecotTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Implicit_tls_rejects_the_self_signed_certificate_by_default(bool async)
    {
        var error = await Assert.ThrowsAsync<Pop3CertificateException>(() => Both.ConnectSsl(async, "localhost", Dovecot.TlsPort));
        Assert.Equal(Pop3CertificateFailure.Untrusted, error.Reason);
    }

    [DovecotTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Stls_then_login(bool async)
    {
        var (user, password) = Dovecot.AddUser([SampleMail.Message(1)]);
        using Pop3Client client = await Both.Run(async,
            () => Pop3Client.Connect("localhost", Dovecot.PlainPort, Dovecot.Options()),
            () => Pop3Client.ConnectAsync("localhost", Dovecot.PlainPort, Dovecot.Options()));
        Assert.True(client.Capabilities.Stls);
        await Both.Run(async, () => client.Stls(), () => client.StlsAsync());
        Assert.True(client.IsEncrypted);
        Assert.False(client.Capabilities.Stls); // Dovecot drops STLS once TLS is on
        await UserPassAndStat(async, client, user, password, expectedMessages: 1);
        await Both.Run(async, client.Quit, () => client.QuitAsync());
    }

    [DovecotTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Apop_logs_in(bool async)
    {
        var (user, password) = Dovecot.AddUser([SampleMail.Message(1)]);
        // A plain link: APOP needs the opt-in (DovecotStrictTests checks the refusal without it).
        using Pop3Client client = await Both.Connect(async, Dovecot.PlainPort, Dovecot.Options(allowInsecure: true));
        await Both.Run(async, () => client.Apop(user, password), () => client.ApopAsync(user, password));
        Assert.Equal(Pop3SessionState.Transaction, client.State);
        Assert.Equal(1, (await Both.Run(async, client.Stat, () => client.StatAsync())).Count);
        await Both.Run(async, client.Quit, () => client.QuitAsync());
    }

    [DovecotTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Wrong_password_is_an_auth_error_and_the_session_goes_on(bool async)
    {
        var (user, password) = Dovecot.AddUser([SampleMail.Message(1)]);
        using Pop3Client client = await Both.Connect(async, Dovecot.PlainPort, Dovecot.Options(allowInsecure: true));
        await Both.Run(async, () => client.User(user), () => client.UserAsync(user));
        var error = await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, () => client.Pass("wrong"), () => client.PassAsync("wrong")));
        Assert.Equal(Pop3ResponseCode.Auth, error.ResponseCode);

        await Both.Run(async, () => client.User(user), () => client.UserAsync(user));
        await Both.Run(async, () => client.Pass(password), () => client.PassAsync(password));
        Assert.Equal(Pop3SessionState.Transaction, client.State);
    }

    [DovecotFact]
    public async Task Utf8_is_refused_by_dovecot_as_a_command_error()
    {
        using Pop3Client client = await Pop3Client.ConnectAsync("127.0.0.1", Dovecot.PlainPort, Dovecot.Options());
        await Assert.ThrowsAsync<Pop3CommandException>(() => client.Utf8Async());
        Assert.True(client.IsConnected);
    }

    [DovecotTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Long_lines_and_a_large_message_arrive_byte_identical(bool async)
    {
        byte[] html = SampleMail.LongLines(lineLength: 60_000, lines: 100); // 6 MB of 60 KB lines
        var (user, password) = Dovecot.AddUser([html]);
        using Pop3Client client = await LoginPlain(async, user, password);
        var sink = new MemoryStream();
        long octets = await Both.Run(async, () => client.RetrTo(1, sink), () => client.RetrToAsync(1, sink));
        Assert.Equal(html.Length, octets);
        Assert.Equal(html, sink.ToArray());
        Assert.Equal(html.Length, (await Both.Run(async, () => client.List(1), () => client.ListAsync(1))).Size);
    }

    [DovecotTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Pipelined_batches_fetch_every_message_byte_identical(bool async)
    {
        byte[][] messages = [.. Enumerable.Range(1, 150).Select(i => i % 10 == 0 ? SampleMail.Tricky() : SampleMail.Message(i, new string('x', i * 37) + "\r\n"))];
        var (user, password) = Dovecot.AddUser(messages);
        Pop3ClientOptions options = Dovecot.Options(allowInsecure: true);
        options.PipelineWindow = 16;
        using Pop3Client client = await Both.Connect(async, Dovecot.PlainPort, options);
        await client.LoginAsync(user, password);
        Assert.True(client.Capabilities.Pipelining);

        // Message 151 does not exist: its -ERR sits in the middle of the window and spoils nothing.
        int[] numbers = [.. Enumerable.Range(1, 75), 151, .. Enumerable.Range(76, 75)];
        var fetched = new List<(int Number, byte[]? Content)>();
        if (async)
        {
            await foreach (Pop3BatchMessage message in client.RetrManyAsync(numbers))
                fetched.Add((message.Number, message.IsOk ? await ReadAllAsync(message.Content) : null));
        }
        else
        {
            foreach (Pop3BatchMessage message in client.RetrMany(numbers))
                fetched.Add((message.Number, message.IsOk ? ReadAll(message.Content) : null));
        }

        Assert.Equal(numbers, fetched.Select(f => f.Number));
        Assert.Null(fetched.Single(f => f.Number == 151).Content);
        foreach ((int number, byte[]? content) in fetched.Where(f => f.Number != 151))
            Assert.Equal(messages[number - 1], content);

        // And with the listing's sizes bounding the octets in flight.
        IReadOnlyList<Pop3ListEntry> listing = await client.ListAsync();
        Assert.Equal(messages.Length, client.RetrMany(listing).Count(m => m.IsOk && ReadAll(m.Content).Length == messages[m.Number - 1].Length));

        IReadOnlyList<Pop3BatchItem> deleted = await Both.Run(async, () => client.DeleMany([1, 2, 999]), () => client.DeleManyAsync([1, 2, 999]));
        Assert.Equal([true, true, false], deleted.Select(d => d.IsOk));
        await client.QuitAsync();
    }

    private static byte[] ReadAll(Stream stream)
    {
        var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    [DovecotFact]
    public async Task Debug_output_against_dovecot_masks_the_password()
    {
        var (user, password) = Dovecot.AddUser([SampleMail.Message(1)]);
        var writer = new StringWriter();
        Pop3ClientOptions options = Dovecot.Options(allowInsecure: true);
        options.DebugLevel = 2;
        options.DebugWriter = writer;
        using (Pop3Client client = await Pop3Client.ConnectAsync("127.0.0.1", Dovecot.PlainPort, options))
        {
            await client.UserAsync(user);
            await client.PassAsync(password);
            await client.RetrAsync(1);
            await client.QuitAsync();
        }

        Assert.Contains("C: PASS ****", writer.ToString());
        Assert.DoesNotContain(password, writer.ToString());
    }
}

/// <summary>Dovecot with <c>disable_plaintext_auth = yes</c>: the server's side of the security policy.</summary>
[Collection(nameof(DovecotCollection))]
public class DovecotStrictTests(DovecotFixture fixture)
{
    private DovecotInstance Dovecot => fixture.StrictServer;

    [DovecotTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Plaintext_login_is_refused_by_client_and_server_and_works_after_stls(bool async)
    {
        var (user, password) = Dovecot.AddUser([SampleMail.Message(1)]);
        Task<Pop3Client> Connect(Pop3ClientOptions options) => Both.Run(async,
            () => Pop3Client.Connect(Dovecot.Host, Dovecot.PlainPort, options),
            () => Pop3Client.ConnectAsync(Dovecot.Host, Dovecot.PlainPort, options));

        // Dovecot refuses USER itself on a plain link; the client, by default, refuses to send PASS.
        using (Pop3Client client = await Connect(Dovecot.Options()))
        {
            Assert.False(client.Capabilities.User);
            var refused = await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, () => client.User(user), () => client.UserAsync(user)));
            Assert.Equal(Pop3ResponseCode.Auth, refused.ResponseCode);
            Assert.Contains("Plaintext authentication disallowed", refused.ResponseText, StringComparison.OrdinalIgnoreCase);
            await Assert.ThrowsAsync<Pop3AuthenticationException>(() => Both.Run(async, () => client.Pass(password), () => client.PassAsync(password)));
            Assert.True(client.IsConnected);
        }

        // APOP sends only a digest, which Dovecot accepts without TLS; but an eavesdropper can crack
        // it offline, so the client sends it only when opted in.
        using (Pop3Client client = await Connect(Dovecot.Options()))
        {
            var refused = await Assert.ThrowsAsync<Pop3AuthenticationException>(() => Both.Run(async, () => client.Apop(user, password), () => client.ApopAsync(user, password)));
            Assert.Equal(Pop3AuthenticationFailure.InsecureConnection, refused.Reason);
            Assert.True(client.IsConnected);
        }

        using (Pop3Client client = await Connect(Dovecot.Options(allowInsecure: true)))
        {
            await Both.Run(async, () => client.Apop(user, password), () => client.ApopAsync(user, password));
            Assert.Equal(Pop3SessionState.Transaction, client.State);
        }

        // After STLS, with default options, USER/PASS works.
        using (Pop3Client client = await Connect(Dovecot.Options()))
        {
            await Both.Run(async, () => client.Stls(), () => client.StlsAsync());
            Assert.True(client.Capabilities.User);
            await DovecotTests.UserPassAndStat(async, client, user, password, expectedMessages: 1);
            await Both.Run(async, client.Quit, () => client.QuitAsync());
        }
    }
}

/// <summary>SASL against Dovecot: every mechanism it offers, sync and async, and Login's choice.</summary>
[Collection(nameof(DovecotCollection))]
public class DovecotSaslTests(DovecotFixture fixture)
{
    public static TheoryData<string, bool> Mechanisms()
    {
        var data = new TheoryData<string, bool>();
        foreach (string name in new[] { "PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256" })
        {
            data.Add(name, false);
            data.Add(name, true);
        }

        return data;
    }

    private static Poplib.Sasl.ISaslMechanism Create(string name, string user, string password) => name switch
    {
        "PLAIN" => new Poplib.Sasl.SaslPlain(user, password),
        "LOGIN" => new Poplib.Sasl.SaslLogin(user, password),
        "CRAM-MD5" => new Poplib.Sasl.SaslCramMd5(user, password),
        "SCRAM-SHA-1" => new Poplib.Sasl.SaslScramSha1(user, password),
        _ => new Poplib.Sasl.SaslScramSha256(user, password),
    };

    [DovecotTheory]
    [MemberData(nameof(Mechanisms))]
    public async Task Each_mechanism_logs_in_over_tls(string name, bool async)
    {
        DovecotInstance dovecot = fixture.Server;
        var (user, password) = dovecot.AddUser([SampleMail.Message(1)]);
        using Pop3Client client = await Both.ConnectSsl(async, "localhost", dovecot.TlsPort, dovecot.Options());
        Assert.Contains(name, client.Capabilities.SaslMechanisms);

        await Both.Run(async, () => client.Auth(Create(name, user, password)), () => client.AuthAsync(Create(name, user, password)));
        Assert.True(client.IsAuthenticated);
        Assert.Equal(1, (await Both.Run(async, client.Stat, () => client.StatAsync())).Count);
        await Both.Run(async, client.Quit, () => client.QuitAsync());
    }

    [DovecotTheory]
    [MemberData(nameof(Mechanisms))]
    public async Task Each_mechanism_reports_a_wrong_password_as_auth(string name, bool async)
    {
        DovecotInstance dovecot = fixture.Server;
        var (user, _) = dovecot.AddUser([SampleMail.Message(1)]);
        using Pop3Client client = await Both.ConnectSsl(async, "localhost", dovecot.TlsPort, dovecot.Options());
        var error = await Assert.ThrowsAsync<Pop3CommandException>(() =>
            Both.Run(async, () => client.Auth(Create(name, user, "wrong")), () => client.AuthAsync(Create(name, user, "wrong"))));
        Assert.Equal(Pop3ResponseCode.Auth, error.ResponseCode);
        Assert.True(client.IsConnected);
    }

    [DovecotTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Login_on_a_plain_link_needs_opt_in_and_then_uses_scram_sha_256(bool async)
    {
        DovecotInstance dovecot = fixture.StrictServer;
        var (user, password) = dovecot.AddUser([SampleMail.Message(1)]);
        var transcript = new StringWriter();
        Task<Pop3Client> Connect(Pop3ClientOptions options) => Both.Run(async,
            () => Pop3Client.Connect(dovecot.Host, dovecot.PlainPort, options),
            () => Pop3Client.ConnectAsync(dovecot.Host, dovecot.PlainPort, options));

        // Only CRAM-MD5 and SCRAM are on offer without TLS: an eavesdropper could crack either offline.
        using (Pop3Client client = await Connect(dovecot.Options()))
        {
            var refused = await Assert.ThrowsAsync<Pop3AuthenticationException>(() => Both.Run(async, () => client.Login(user, password), () => client.LoginAsync(user, password)));
            Assert.Equal(Pop3AuthenticationFailure.InsecureConnection, refused.Reason);
            Assert.Contains("AUTH SCRAM-SHA-256", refused.Message);
        }

        Pop3ClientOptions options = dovecot.Options(allowInsecure: true);
        options.DebugLevel = 1;
        options.DebugWriter = transcript;
        using Pop3Client opted = await Connect(options);
        await Both.Run(async, () => opted.Login(user, password), () => opted.LoginAsync(user, password));
        Assert.True(opted.IsAuthenticated);
        Assert.Equal("AUTH SCRAM-SHA-256", opted.AuthenticationMethod);
        Assert.Contains("C: AUTH SCRAM-SHA-256 ****", transcript.ToString());
        Assert.DoesNotContain(password, transcript.ToString());
    }

    [DovecotTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Plain_mechanism_refused_without_tls_unless_opted_in(bool async)
    {
        DovecotInstance dovecot = fixture.Server;
        var (user, password) = dovecot.AddUser([SampleMail.Message(1)]);
        using (Pop3Client client = await Both.Connect(async, dovecot.PlainPort, dovecot.Options()))
        {
            await Assert.ThrowsAsync<Pop3AuthenticationException>(() =>
                Both.Run(async, () => client.Auth(new Poplib.Sasl.SaslPlain(user, password)), () => client.AuthAsync(new Poplib.Sasl.SaslPlain(user, password))));
        }

        using (Pop3Client client = await Both.Connect(async, dovecot.PlainPort, dovecot.Options(allowInsecure: true)))
        {
            await Both.Run(async, () => client.Auth(new Poplib.Sasl.SaslPlain(user, password)), () => client.AuthAsync(new Poplib.Sasl.SaslPlain(user, password)));
            Assert.True(client.IsAuthenticated);
        }
    }
}
