using Poplib.Sasl;
using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.Scripted;

/// <summary>
/// Without TLS an eavesdropper sees every login. PASS, PLAIN and LOGIN show the password itself;
/// APOP, CRAM-MD5 and SCRAM show what it can be cracked from offline. So, by default, nothing derived
/// from a password is sent on an unencrypted connection (RFC 8314: use TLS) unless the caller opts in
/// with <see cref="Pop3ClientOptions.AllowInsecureAuthentication"/>.
/// </summary>
public class InsecureLoginTests
{
    private const string Timestamp = " <1896.697170952@dbc.mtview.ca.us>";

    private static Pop3ClientOptions Default() => new() { Timeout = TimeSpan.FromSeconds(10) };

    public static TheoryData<bool, string, string[]> PasswordServers() => Both.Paths<string, string[]>(
        [
            ("+OK ready", ["SASL CRAM-MD5"]),                         // the audit's case
            ("+OK ready", ["SASL SCRAM-SHA-256 SCRAM-SHA-1"]),
            ("+OK ready" + Timestamp, ["TOP"]),                        // APOP only
            ("+OK ready" + Timestamp, ["USER", "SASL PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1"]),
            ("+OK ready", ["USER"]),
        ]);

    [Theory]
    [MemberData(nameof(PasswordServers))]
    public async Task Login_sends_nothing_derived_from_the_password_on_a_plain_connection_by_default(bool async, string greeting, string[] capabilities)
    {
        await using var server = ScriptedServer.Start(s => s.Greet(greeting).Capa(capabilities).On("QUIT", "+OK bye"));
        using Pop3Client client = await Both.Connect(async, server.Port, Default());

        var error = await Assert.ThrowsAsync<Pop3AuthenticationException>(() => Both.Run(async, () => client.Login("tim", "tanstaaf"), () => client.LoginAsync("tim", "tanstaaf")));
        Assert.Equal(Pop3AuthenticationFailure.InsecureConnection, error.Reason);
        Assert.Contains("Stls()", error.Message);
        Assert.Contains("ConnectSsl", error.Message);
        Assert.Contains("AllowInsecureAuthentication", error.Message);
        Assert.True(client.IsConnected);
        await Both.Run(async, () => client.Quit(), () => client.QuitAsync());
        await server.VerifyAsync();
        Assert.Equal(["CAPA", "QUIT"], server.Received);
    }

    // the greeting, CAPA's reply, the method the refusal must name (as AuthenticationMethod would)
    public static TheoryData<bool, string, string[], string> RefusedChoices() => Both.Paths<string, string[], string>(
        [
            ("+OK", ["-ERR"], "USER/PASS"),                           // popa3d: no CAPA at all
            ("+OK ready", ["+OK", "USER", "."], "USER/PASS"),
            ("+OK ready" + Timestamp, ["-ERR unknown command"], "APOP"), // solid-pop3d
            ("+OK ready", ["+OK", "USER", "SASL PLAIN CRAM-MD5", "."], "AUTH CRAM-MD5"),
        ]);

    [Theory]
    [MemberData(nameof(RefusedChoices))]
    public async Task The_refusal_names_the_method_Login_would_have_used(bool async, string greeting, string[] capa, string method)
    {
        // Found against popa3d: the message said "log in with USER" where AuthenticationMethod says "USER/PASS".
        await using var server = ScriptedServer.Start(s => s.Greet(greeting).On("CAPA", capa));
        using Pop3Client client = await Both.Connect(async, server.Port, Default());
        var error = await Assert.ThrowsAsync<Pop3AuthenticationException>(() => Both.Run(async, () => client.Login("tim", "tanstaaf"), () => client.LoginAsync("tim", "tanstaaf")));
        Assert.Contains($"Refusing to log in with {method} over", error.Message, StringComparison.Ordinal);
        await server.VerifyAsync();
        Assert.Equal(["CAPA"], server.Received);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Explicit_apop_cram_and_scram_are_refused_too_before_anything_is_sent(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.Greet("+OK ready" + Timestamp).Capa("SASL CRAM-MD5 SCRAM-SHA-256"));
        using Pop3Client client = await Both.Connect(async, server.Port, Default());

        var apop = await Assert.ThrowsAsync<Pop3AuthenticationException>(() => Both.Run(async, () => client.Apop("tim", "pw"), () => client.ApopAsync("tim", "pw")));
        Assert.Equal(Pop3AuthenticationFailure.InsecureConnection, apop.Reason);
        Assert.Contains("APOP", apop.Message);
        foreach (ISaslMechanism mechanism in new ISaslMechanism[] { new SaslCramMd5("tim", "pw"), new SaslScramSha256("tim", "pw"), new SaslScramSha1("tim", "pw") })
        {
            var auth = await Assert.ThrowsAsync<Pop3AuthenticationException>(() => Both.Run(async, () => client.Auth(mechanism), () => client.AuthAsync(mechanism)));
            Assert.Equal(Pop3AuthenticationFailure.InsecureConnection, auth.Reason);
            Assert.Contains(mechanism.Name, auth.Message);
        }

        Assert.True(client.IsConnected);
        await server.VerifyAsync();
        Assert.Equal(["CAPA"], server.Received);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_third_party_mechanism_is_refused_unless_it_declares_it_uses_no_secret(bool async)
    {
        // EXTERNAL carries no secret (the identity comes from elsewhere: a client certificate, the
        // socket); a mechanism that says nothing is assumed to use one.
        await using var server = ScriptedServer.Start(s => s.Greet().Capa("SASL EXTERNAL X-SECRET")
            .On("AUTH EXTERNAL =", "+OK welcome")
            .Capa("TOP"));
        using Pop3Client client = await Both.Connect(async, server.Port, Default());

        var undeclared = new UndeclaredMechanism();
        var error = await Assert.ThrowsAsync<Pop3AuthenticationException>(() => Both.Run(async, () => client.Auth(undeclared), () => client.AuthAsync(undeclared)));
        Assert.Equal(Pop3AuthenticationFailure.InsecureConnection, error.Reason);

        var external = new ExternalMechanism();
        await Both.Run(async, () => client.Auth(external), () => client.AuthAsync(external));
        Assert.Equal("AUTH EXTERNAL", client.AuthenticationMethod);
        await server.VerifyAsync();
    }

    // offered SASL, the greeting's timestamp, the first command expected
    public static TheoryData<bool, string, string, string> OptedInChoices() => Both.Paths<string, string, string>(
        [
            ("PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1", Timestamp, "AUTH SCRAM-SHA-1"),
            ("PLAIN SCRAM-SHA-256 SCRAM-SHA-1", "", "AUTH SCRAM-SHA-256"),
            ("PLAIN LOGIN CRAM-MD5", Timestamp, "AUTH CRAM-MD5"),
            ("PLAIN LOGIN", Timestamp, "APOP"),   // in the clear, a digest beats the password itself
            ("LOGIN", "", "AUTH LOGIN"),
            ("", "", "USER"),
        ]);

    [Theory]
    [MemberData(nameof(OptedInChoices))]
    public async Task Opted_in_login_on_a_plain_connection_picks_the_strongest_and_prefers_what_reveals_least(bool async, string sasl, string timestamp, string expected)
    {
        await using var server = ScriptedServer.Start(s => s.Greet("+OK ready" + timestamp)
            .Capa(sasl.Length > 0 ? ["USER", "SASL " + sasl] : ["USER"])
            .Expect(null).Send("-ERR [AUTH] stop here"));
        using Pop3Client client = await Both.Connect(async, server.Port, Both.Plain());
        await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, () => client.Login("tim", "tanstaaf"), () => client.LoginAsync("tim", "tanstaaf")));
        await server.VerifyAsync();
        Assert.StartsWith(expected, server.Received[1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Over_tls_login_needs_no_opt_in_and_prefers_plain_to_apop(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.Greet("+OK ready" + Timestamp).Capa("USER", "SASL PLAIN LOGIN")
            .On("AUTH PLAIN AHRpbQB0YW5zdGFhZg==", "+OK welcome").Capa("TOP"), implicitTls: TestCertificates.Localhost);
        using Pop3Client client = await Both.ConnectSsl(async, "localhost", server.Port, TestCertificates.TrustingOptions(TestCertificates.Localhost));
        await Both.Run(async, () => client.Login("tim", "tanstaaf"), () => client.LoginAsync("tim", "tanstaaf"));
        Assert.Equal("AUTH PLAIN", client.AuthenticationMethod);
        await server.VerifyAsync();
    }

    private sealed class ExternalMechanism : ISaslMechanism
    {
        public string Name => "EXTERNAL";

        public bool ExposesSecret => false;

        public bool UsesSecret => false;

        public bool HasInitialResponse => true;

        public byte[] Respond(ReadOnlySpan<byte> challenge) => [];

        public void Complete()
        {
        }
    }

    private sealed class UndeclaredMechanism : ISaslMechanism
    {
        public string Name => "X-SECRET";

        public bool ExposesSecret => false;

        public bool HasInitialResponse => false;

        public byte[] Respond(ReadOnlySpan<byte> challenge) => [];

        public void Complete()
        {
        }
    }
}
