using System.Security.Authentication;
using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.Scripted;

public class TlsTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Implicit_tls_with_a_trusted_certificate(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.Greet().Capa("USER", "TOP").On("USER alice", "+OK").On("PASS secret", "+OK").Capa("TOP"),
            implicitTls: TestCertificates.Localhost);
        // No AllowInsecureAuthentication: PASS is fine because the link is encrypted.
        using Pop3Client client = await Both.ConnectSsl(async, "localhost", server.Port, TestCertificates.TrustingOptions(TestCertificates.Localhost));

        Assert.True(client.IsEncrypted);
        Assert.NotEqual(SslProtocols.None, client.SslProtocol);
        await Both.Run(async, () => client.User("alice"), () => client.UserAsync("alice"));
        await Both.Run(async, () => client.Pass("secret"), () => client.PassAsync("secret"));
        Assert.Equal(Pop3SessionState.Transaction, client.State);
        await server.VerifyAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Untrusted_certificate_is_rejected_by_default(bool async)
    {
        // poplib accepts any certificate unless told otherwise; we verify by default.
        await using var server = ScriptedServer.Start(s => s.Greet(), implicitTls: TestCertificates.Localhost);
        var error = await Assert.ThrowsAsync<Pop3CertificateException>(() => Both.ConnectSsl(async, "localhost", server.Port));
        Assert.Equal(Pop3CertificateFailure.Untrusted, error.Reason);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Certificate_for_another_host_name_is_rejected(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.Greet(), implicitTls: TestCertificates.OtherHost);
        var error = await Assert.ThrowsAsync<Pop3CertificateException>(() =>
            Both.ConnectSsl(async, "localhost", server.Port, TestCertificates.TrustingOptions(TestCertificates.OtherHost)));
        Assert.Equal(Pop3CertificateFailure.NameMismatch, error.Reason);
    }

    [Fact]
    public async Task Explicit_target_host_is_used_for_the_name_check()
    {
        await using var server = ScriptedServer.Start(s => s.Greet().On("CAPA", "-ERR"), implicitTls: TestCertificates.OtherHost);
        var options = new Pop3ClientOptions { SslOptions = TestCertificates.Trusting(TestCertificates.OtherHost, targetHost: "mail.example.org") };
        using Pop3Client client = Pop3Client.ConnectSsl("127.0.0.1", server.Port, options);
        Assert.True(client.IsEncrypted);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Stls_upgrades_and_reads_capabilities_again(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.Greet()
            .Capa("STLS", "TOP")
            .On("STLS", "+OK Begin TLS negotiation")
            .StartTls(TestCertificates.Localhost)
            .Capa("TOP", "USER", "SASL PLAIN")
            .On("USER alice", "+OK")
            .On("PASS secret", "+OK")
            .Capa("TOP"));
        var options = TestCertificates.TrustingOptions(TestCertificates.Localhost);
        using Pop3Client client = await Both.Run(async, () => Pop3Client.Connect("localhost", server.Port, options), () => Pop3Client.ConnectAsync("localhost", server.Port, options));

        Assert.False(client.IsEncrypted);
        Pop3Response reply = await Both.Run(async, () => client.Stls(), () => client.StlsAsync());
        Assert.Equal("Begin TLS negotiation", reply.Text);
        Assert.True(client.IsEncrypted);
        Assert.False(client.Capabilities.Stls);
        Assert.Equal(["PLAIN"], client.Capabilities.SaslMechanisms);
        await Both.Run(async, () => client.User("alice"), () => client.UserAsync("alice"));
        await Both.Run(async, () => client.Pass("secret"), () => client.PassAsync("secret"));
        await server.VerifyAsync();
    }

    [Fact]
    public async Task Stls_is_refused_when_not_advertised()
    {
        await using var server = ScriptedServer.Start(s => s.Greet().Capa("TOP", "USER"));
        using Pop3Client client = Pop3Client.Connect("127.0.0.1", server.Port, Both.Plain());
        Assert.Throws<NotSupportedException>(() => client.Stls());
        await server.VerifyAsync();
        Assert.DoesNotContain("STLS", server.Received);
    }

    [Fact]
    public async Task Stls_is_refused_after_login_and_on_tls()
    {
        await using var plain = ScriptedServer.Start(s => s.LoggedIn(["STLS", "USER"]));
        using (Pop3Client client = Pop3Client.Connect("127.0.0.1", plain.Port, Both.Plain()))
        {
            client.User("alice");
            client.Pass("secret");
            Assert.Throws<InvalidOperationException>(() => client.Stls());
        }

        await using var tls = ScriptedServer.Start(s => s.Greet().Capa("STLS"), implicitTls: TestCertificates.Localhost);
        using Pop3Client secure = Pop3Client.ConnectSsl("localhost", tls.Port, TestCertificates.TrustingOptions(TestCertificates.Localhost));
        Assert.Throws<InvalidOperationException>(() => secure.Stls());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Stls_err_leaves_a_plain_session_and_says_so(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.Greet().Capa("STLS", "USER").On("STLS", "-ERR TLS unavailable").On("USER alice", "+OK"));
        using Pop3Client client = await Both.Connect(async, server.Port, new Pop3ClientOptions());

        await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, () => client.Stls(), () => client.StlsAsync()));
        Assert.False(client.IsEncrypted);
        Assert.True(client.IsConnected);
        // Never a silent downgrade: the password is still refused on the plain link.
        await Both.Run(async, () => client.User("alice"), () => client.UserAsync("alice"));
        await Assert.ThrowsAsync<Pop3AuthenticationException>(() => Both.Run(async, () => client.Pass("secret"), () => client.PassAsync("secret")));
        await server.VerifyAsync();
        Assert.DoesNotContain(server.Received, l => l.StartsWith("PASS", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Bytes_after_stls_ok_are_an_injection_and_close_the_connection(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.Greet().Capa("STLS")
            .Expect("STLS").SendRaw("+OK Begin TLS\r\n+OK injected reply\r\n"));
        using Pop3Client client = await Both.Connect(async, server.Port, Both.Plain());

        var error = await Assert.ThrowsAsync<Pop3ProtocolException>(() => Both.Run(async, () => client.Stls(), () => client.StlsAsync()));
        Assert.Contains("STARTTLS injection", error.Message);
        Assert.False(client.IsConnected);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Plaintext_error_instead_of_handshake_fails_closed(bool async)
    {
        // Courier's behaviour when its TLS helper cannot start.
        await using var server = ScriptedServer.Start(s => s.Greet().Capa("STLS")
            .On("STLS", "+OK Begin SSL/TLS negotiation now.")
            .Do(async (stream, ct) => await stream.ReadAsync(new byte[1], ct)) // the start of the ClientHello
            .Send("-ERR STARTTLS failed: no certificate")
            .Close());
        using Pop3Client client = await Both.Connect(async, server.Port, Both.Plain());

        var error = await Assert.ThrowsAsync<AuthenticationException>(() => Both.Run(async, () => client.Stls(), () => client.StlsAsync()));
        Assert.Contains("the server answered in plain text, \"-ERR STARTTLS failed: no certificate\"", error.Message);
        Assert.False(client.IsConnected);
        Assert.False(client.IsEncrypted);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_tls_alert_and_then_a_plaintext_error_fail_closed_and_say_what_the_server_said(bool async)
    {
        // The real Courier, when the handshake cannot go on (here: no cipher suite in common): a
        // close_notify alert, a moment later "-ERR STARTTLS failed: …" in plain text, and then it waits
        // for plain-text commands. The client must not give it any, and should say why.
        await using var server = ScriptedServer.Start(s => s.Greet().Capa("STLS")
            .On("STLS", "+OK Begin SSL/TLS negotiation now.")
            .Do(ReadTlsRecordAsync) // the ClientHello
            .SendRaw([0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x00])
            .Delay(TimeSpan.FromMilliseconds(50))
            .Send("-ERR STARTTLS failed: ip=[::ffff:127.0.0.1], No supported cipher suites have been found.")
            .ExpectQuiet(TimeSpan.FromSeconds(1)));
        using Pop3Client client = await Both.Connect(async, server.Port, Both.Plain());

        var error = await Assert.ThrowsAsync<AuthenticationException>(() => Both.Run(async, () => client.Stls(), () => client.StlsAsync()));
        Assert.Contains("\"-ERR STARTTLS failed: ip=[::ffff:127.0.0.1], No supported cipher suites have been found.\"", error.Message);
        Assert.Contains("The connection is closed", error.Message);
        Assert.NotNull(error.InnerException);
        Assert.False(client.IsConnected);
        await server.VerifyAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Tls_against_a_plain_port_quotes_the_greeting_it_got_instead(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.Greet("+OK plain POP3 here"));
        var error = await Assert.ThrowsAsync<AuthenticationException>(() => Both.ConnectSsl(async, "localhost", server.Port, TestCertificates.TrustingOptions(TestCertificates.Localhost)));
        Assert.Contains("the server answered in plain text, \"+OK plain POP3 here\"", error.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_certificate_failure_is_reported_at_once_and_as_before(bool async)
    {
        // The server did its part of the handshake: nothing is waited for, nothing quoted.
        await using var server = ScriptedServer.Start(s => s.Greet(), implicitTls: TestCertificates.Localhost);
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        var error = await Assert.ThrowsAsync<Pop3CertificateException>(() => Both.ConnectSsl(async, "localhost", server.Port));
        Assert.DoesNotContain("plain text", error.Message);
        Assert.True(System.Diagnostics.Stopwatch.GetElapsedTime(start) < TimeSpan.FromMilliseconds(400));
    }

    private static async Task ReadTlsRecordAsync(Stream stream, CancellationToken cancellationToken)
    {
        byte[] header = new byte[5];
        await stream.ReadExactlyAsync(header, cancellationToken);
        await stream.ReadExactlyAsync(new byte[(header[3] << 8) | header[4]], cancellationToken);
    }
}
