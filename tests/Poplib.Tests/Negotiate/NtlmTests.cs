using Poplib.Sasl;
using Poplib.Testing;

namespace Poplib.Tests.Negotiate;

/// <summary>
/// AUTH NTLM against the in-process server, whose side is the platform's own NTLM acceptor (gss-ntlmssp
/// on Linux, checking the users Poplib.Testing writes to NTLM_USER_FILE): the whole [MS-POP3] exchange,
/// over TLS bound to the certificate, and on a plain link only when opted in.
/// </summary>
public class NtlmTests
{
    private const string Password = "ntlm-secret 7";

    [NtlmTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Ntlm_over_tls_logs_in_bound_to_the_connection(bool async)
    {
        await using Pop3TestServer server = await NegotiateWorld.StartAsync(Pop3SaslMechanisms.Ntlm, requireChannelBinding: true);
        string user = NegotiateWorld.AddUser(server, Password, messages: 3);
        using Pop3Client client = await NegotiateWorld.Connect(async, server);
        Assert.Contains("NTLM", client.Capabilities.SaslMechanisms);

        using var ntlm = new SaslNtlm($"{NegotiateWorld.Domain}\\{user}", Password);
        Pop3Response response = await NegotiateWorld.Auth(async, client, ntlm);

        Assert.True(response.IsOk);
        Assert.True(client.IsAuthenticated);
        Assert.Equal("AUTH NTLM", client.AuthenticationMethod);
        Assert.True(ntlm.IsChannelBound);
        Assert.Equal("pop/localhost", ntlm.EffectiveTargetName);
        Assert.Equal(3, (await NegotiateWorld.Stat(async, client)).Count);
        Assert.Empty(server.Errors);
    }

    [NtlmTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_server_requiring_channel_binding_refuses_an_unbound_exchange(bool async)
    {
        // The check that makes the binding worth sending: without it (a relayed exchange looks the same) Extended Protection says no.
        await using Pop3TestServer server = await NegotiateWorld.StartAsync(Pop3SaslMechanisms.Ntlm | Pop3SaslMechanisms.Plain, requireChannelBinding: true);
        string user = NegotiateWorld.AddUser(server, Password);
        using Pop3Client client = await NegotiateWorld.Connect(async, server);

        using var unbound = new SaslNtlm(user, Password) { UseChannelBinding = false };
        var refused = await Assert.ThrowsAsync<Pop3CommandException>(() => NegotiateWorld.Auth(async, client, unbound));
        Assert.False(unbound.IsChannelBound);
        Assert.Equal(Pop3ResponseCode.Auth, refused.ResponseCode);

        // The session is still in step: the next login on it works.
        using var bound = new SaslNtlm(user, Password);
        await NegotiateWorld.Auth(async, client, bound);
        Assert.True(client.IsAuthenticated);
    }

    [NtlmTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_wrong_password_is_refused_and_the_session_goes_on(bool async)
    {
        await using Pop3TestServer server = await NegotiateWorld.StartAsync(Pop3SaslMechanisms.Ntlm);
        string user = NegotiateWorld.AddUser(server, Password);
        using Pop3Client client = await NegotiateWorld.Connect(async, server);

        using var wrong = new SaslNtlm(user, Password + "x");
        var refused = await Assert.ThrowsAsync<Pop3CommandException>(() => NegotiateWorld.Auth(async, client, wrong));
        Assert.Equal(Pop3ResponseCode.Auth, refused.ResponseCode);
        Assert.DoesNotContain(Password, refused.Message, StringComparison.Ordinal);
        Assert.False(client.IsAuthenticated);

        await NegotiateWorld.Login(async, client, $"{NegotiateWorld.Domain}\\{user}", Password);
        Assert.Equal("AUTH NTLM", client.AuthenticationMethod);
    }

    [NtlmTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Login_prefers_ntlm_to_plain_and_takes_a_bare_user_name(bool async)
    {
        await using Pop3TestServer server = await NegotiateWorld.StartAsync(Pop3SaslMechanisms.Plain | Pop3SaslMechanisms.Ntlm);
        string user = NegotiateWorld.AddUser(server, Password);
        using Pop3Client client = await NegotiateWorld.Connect(async, server);
        Assert.Equal(["NTLM", "PLAIN"], client.Capabilities.SaslMechanisms.Order());

        await NegotiateWorld.Login(async, client, user, Password);

        Assert.Equal("AUTH NTLM", client.AuthenticationMethod);
        Assert.Equal(2, (await NegotiateWorld.Stat(async, client)).Count);
    }

    [NtlmTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task On_a_plain_link_ntlm_needs_the_opt_in(bool async)
    {
        await using Pop3TestServer server = await NegotiateWorld.StartAsync(Pop3SaslMechanisms.Ntlm, Pop3TlsMode.None);
        string user = NegotiateWorld.AddUser(server, Password);

        using (Pop3Client strict = await NegotiateWorld.Connect(async, server, tls: false))
        {
            using var ntlm = new SaslNtlm(user, Password);
            var refused = await Assert.ThrowsAsync<Pop3AuthenticationException>(() => NegotiateWorld.Auth(async, strict, ntlm));
            Assert.Equal(Pop3AuthenticationFailure.InsecureConnection, refused.Reason);
            Assert.Null(ntlm.EffectiveTargetName); // never started: nothing was made, nothing sent
            var login = await Assert.ThrowsAsync<Pop3AuthenticationException>(() => NegotiateWorld.Login(async, strict, user, Password));
            Assert.Equal(Pop3AuthenticationFailure.InsecureConnection, login.Reason);
            Assert.Contains("APOP", login.Message, StringComparison.Ordinal); // without TLS the greeting's APOP comes before NTLM
        }

        using Pop3Client optedIn = await NegotiateWorld.Connect(async, server, tls: false, allowInsecure: true);
        using var plain = new SaslNtlm(user, Password);
        await NegotiateWorld.Auth(async, optedIn, plain);
        Assert.True(optedIn.IsAuthenticated);
        Assert.False(plain.IsChannelBound);
    }

    [NtlmFact]
    public async Task The_poplib_command_logs_in_with_auth_ntlm()
    {
        await using Pop3TestServer server = await NegotiateWorld.StartAsync(Pop3SaslMechanisms.Ntlm | Pop3SaslMechanisms.Plain, Pop3TlsMode.None);
        string user = NegotiateWorld.AddUser(server, Password, messages: 2);
        const string variable = "POPLIB_TEST_NTLM_PW";
        Environment.SetEnvironmentVariable(variable, Password);
        string[] login = ["--host", "localhost", "--port", server.Port.ToString(), "--user", $"{NegotiateWorld.Domain}\\{user}",
            "--password-env", variable, "--auth", "ntlm", "--allow-insecure-auth", "-v"];

        Cli.CliRunner.Outcome stat = await Cli.CliRunner.RunAsync(["stat", .. login]);

        Assert.True(stat.ExitCode == 0, stat.Error);
        Assert.StartsWith("2 messages", stat.Out);
        Assert.Contains("AUTH NTLM", stat.Error); // the -v transcript
        Assert.DoesNotContain(Password, stat.Error, StringComparison.Ordinal);
    }
}
