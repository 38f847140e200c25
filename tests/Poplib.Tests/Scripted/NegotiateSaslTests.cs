using System.Net;
using System.Net.Security;
using System.Text;
using Poplib.Sasl;
using Poplib.Tests.Infrastructure;
using Poplib.Tests.Negotiate;

namespace Poplib.Tests.Scripted;

/// <summary>
/// AUTH NTLM and AUTH GSSAPI against a scripted server: the [MS-POP3] flow's shape (no initial
/// response, the server's empty "+" first), and servers that misbehave in it — a challenge past the
/// line limit, one that is not base64, one that is base64 but no NTLM message, +OK before the client
/// has answered, -ERR in the middle, challenges that never end, silence. Each ends with a typed error;
/// where the server is still in step, the session goes on.
/// </summary>
public class NegotiateSaslTests
{
    private const string User = "POPLIB\\alice";
    private const string Password = "scripted-secret";

    private static Task<Pop3Client> Connect(bool async, ScriptedServer server, TimeSpan? timeout = null)
    {
        Pop3ClientOptions options = Both.Plain();
        options.Timeout = timeout ?? TimeSpan.FromSeconds(10);
        return Both.Connect(async, server.Port, options);
    }

    private static ScriptedServer.Script Greeted(ScriptedServer.Script s, string sasl = "NTLM PLAIN") =>
        s.Greet().Capa("USER", "SASL " + sasl, "AUTH-RESP-CODE");

    private static Task<Pop3Response> Auth(bool async, Pop3Client client, ISaslMechanism mechanism) =>
        Both.Run(async, () => client.Auth(mechanism), () => client.AuthAsync(mechanism));

    private static Task<Pop3Capabilities> Capa(bool async, Pop3Client client) => Both.Run(async, client.Capa, () => client.CapaAsync());

    /// <summary>A real NTLM CHALLENGE message, made by the platform's acceptor for a NEGOTIATE message of another client.</summary>
    private static string RealChallenge()
    {
        using var client = new NegotiateAuthentication(new NegotiateAuthenticationClientOptions
        {
            Package = "NTLM",
            Credential = new NetworkCredential("alice", Password, "POPLIB"),
            TargetName = "pop/localhost",
        });
        using var acceptor = new NegotiateAuthentication(new NegotiateAuthenticationServerOptions { Package = "NTLM" });
        byte[] negotiate = client.GetOutgoingBlob(ReadOnlySpan<byte>.Empty, out _)!;
        byte[] challenge = acceptor.GetOutgoingBlob(negotiate, out NegotiateAuthenticationStatusCode status)!;
        Assert.Equal(NegotiateAuthenticationStatusCode.ContinueNeeded, status);
        return Convert.ToBase64String(challenge);
    }

    [NtlmTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Ntlm_waits_for_the_empty_challenge_then_answers_the_real_one(bool async)
    {
        string challenge = RealChallenge();
        await using var server = ScriptedServer.Start(s => Greeted(s)
            .Expect("AUTH NTLM").ExpectQuiet() // [MS-POP3]: no initial response, nothing before the "+"
            .Send("+ ").Expect(null)           // NEGOTIATE
            .Send("+ " + challenge).Expect(null) // AUTHENTICATE
            .Send("+OK NTLM authentication successful").Capa("TOP"));
        using Pop3Client client = await Connect(async, server);
        using var ntlm = new SaslNtlm(User, Password);
        await Auth(async, client, ntlm);
        Assert.True(client.IsAuthenticated);
        Assert.Equal("NTLM", ntlm.Package);
        Assert.False(ntlm.IsChannelBound); // a plain link: nothing to bind to
        await server.VerifyAsync();
    }

    [NtlmTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_challenge_past_the_line_limit_closes_the_connection(bool async)
    {
        await using var server = ScriptedServer.Start(s => Greeted(s)
            .Expect("AUTH NTLM").Send("+ ").Expect(null)
            .SendRaw("+ " + new string('A', 1_000_000) + "\r\n"));
        using Pop3Client client = await Connect(async, server);
        var error = await Assert.ThrowsAsync<Pop3LimitExceededException>(() => Auth(async, client, new SaslNtlm(User, Password)));
        Assert.Equal(nameof(Pop3ClientOptions.MaxLineLength), error.LimitName);
        Assert.False(client.IsConnected);
    }

    public static TheoryData<bool, string> Garbage => Both.Paths(
        "TlRMTVNTUA=AAA", // base64's alphabet, but padding in the middle
        Convert.ToBase64String(Encoding.ASCII.GetBytes("NTLMSSP\0 but nothing a CHALLENGE has")),
        Convert.ToBase64String(new byte[3000]));

    [NtlmTheory]
    [MemberData(nameof(Garbage))]
    public async Task A_garbage_challenge_is_cancelled_and_the_session_goes_on(bool async, string garbage)
    {
        await using var server = ScriptedServer.Start(s => Greeted(s)
            .Expect("AUTH NTLM").Send("+ ").Expect(null)
            .Send("+ " + garbage)
            .On("*", "-ERR authentication cancelled")
            .Capa("USER", "SASL NTLM PLAIN"));
        using Pop3Client client = await Connect(async, server);
        var error = await Assert.ThrowsAsync<Pop3AuthenticationException>(() => Auth(async, client, new SaslNtlm(User, Password)));
        Assert.Equal(Pop3AuthenticationFailure.Cancelled, error.Reason);
        Assert.DoesNotContain(Password, error.ToString(), StringComparison.Ordinal);
        Assert.True(client.IsConnected);
        Assert.True((await Capa(async, client)).User); // in step: CAPA's reply is CAPA's
        await server.VerifyAsync();
    }

    [NtlmTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_line_that_is_no_challenge_closes_the_connection(bool async)
    {
        // "+ " and text outside base64's alphabet: no reply POP3 knows, so nothing after it can be trusted.
        await using var server = ScriptedServer.Start(s => Greeted(s)
            .Expect("AUTH NTLM").Send("+ ").Expect(null)
            .Send("+ Go ahead, send your password"));
        using Pop3Client client = await Connect(async, server);
        await Assert.ThrowsAsync<Pop3ProtocolException>(() => Auth(async, client, new SaslNtlm(User, Password)));
        Assert.False(client.IsConnected);
    }

    [NtlmTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_first_challenge_that_is_not_empty_is_cancelled(bool async)
    {
        await using var server = ScriptedServer.Start(s => Greeted(s)
            .Expect("AUTH NTLM").Send("+ " + RealChallenge())
            .On("*", "-ERR cancelled"));
        using Pop3Client client = await Connect(async, server);
        var error = await Assert.ThrowsAsync<Pop3AuthenticationException>(() => Auth(async, client, new SaslNtlm(User, Password)));
        Assert.Equal(Pop3AuthenticationFailure.Cancelled, error.Reason);
        Assert.Contains("first NTLM challenge is not empty", error.Message, StringComparison.Ordinal);
        await server.VerifyAsync();
    }

    public static TheoryData<bool, bool> OkTooEarly => Both.Paths(false, true);

    [NtlmTheory]
    [MemberData(nameof(OkTooEarly))]
    public async Task Ok_before_the_client_has_answered_the_challenge_closes_the_connection(bool async, bool afterNegotiate)
    {
        await using var server = ScriptedServer.Start(s =>
        {
            ScriptedServer.Script script = Greeted(s).Expect("AUTH NTLM");
            if (afterNegotiate)
                script.Send("+ ").Expect(null);
            script.Send("+OK come in").ExpectHangUp();
        });
        using Pop3Client client = await Connect(async, server);
        var error = await Assert.ThrowsAsync<Pop3AuthenticationException>(() => Auth(async, client, new SaslNtlm(User, Password)));
        Assert.Equal(Pop3AuthenticationFailure.ServerNotAuthenticated, error.Reason);
        Assert.False(client.IsConnected);
        Assert.False(client.IsAuthenticated);
        await server.VerifyAsync();
    }

    [NtlmTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Err_in_the_middle_is_a_refusal_and_the_session_goes_on(bool async)
    {
        await using var server = ScriptedServer.Start(s => Greeted(s)
            .Expect("AUTH NTLM").Send("+ ").Expect(null)
            .Send("-ERR [AUTH] NTLM is disabled for this mailbox")
            .Capa("USER", "SASL NTLM PLAIN"));
        using Pop3Client client = await Connect(async, server);
        var error = await Assert.ThrowsAsync<Pop3CommandException>(() => Auth(async, client, new SaslNtlm(User, Password)));
        Assert.Equal(Pop3ResponseCode.Auth, error.ResponseCode);
        Assert.True((await Capa(async, client)).User);
        await server.VerifyAsync();
    }

    [NtlmTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_server_that_never_finishes_is_cancelled(bool async)
    {
        string challenge = RealChallenge();
        await using var server = ScriptedServer.Start(s => Greeted(s)
            .Expect("AUTH NTLM").Send("+ ").Expect(null)
            .Send("+ " + challenge).Expect(null)
            .Send("+ " + challenge)            // and again, as if the AUTHENTICATE message had not come
            .On("*", "-ERR cancelled")
            .Capa("USER"));
        using Pop3Client client = await Connect(async, server);
        var error = await Assert.ThrowsAsync<Pop3AuthenticationException>(() => Auth(async, client, new SaslNtlm(User, Password)));
        Assert.Equal(Pop3AuthenticationFailure.Cancelled, error.Reason);
        Assert.Contains("after the NTLM AUTHENTICATE message", error.Message, StringComparison.Ordinal);
        Assert.True((await Capa(async, client)).User);
        await server.VerifyAsync();
    }

    [NtlmTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_server_silent_after_the_authenticate_message_times_out(bool async)
    {
        await using var server = ScriptedServer.Start(s => Greeted(s)
            .Expect("AUTH NTLM").Send("+ ").Expect(null)
            .Send("+ " + RealChallenge()).Expect(null)
            .ExpectQuiet(TimeSpan.FromSeconds(3)));
        using Pop3Client client = await Connect(async, server, timeout: TimeSpan.FromSeconds(1));
        await Assert.ThrowsAsync<TimeoutException>(() => Auth(async, client, new SaslNtlm(User, Password)));
        Assert.False(client.IsConnected);
    }

    [NtlmTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_mechanism_runs_one_exchange(bool async)
    {
        await using var server = ScriptedServer.Start(s => Greeted(s)
            .Expect("AUTH NTLM").Send("+ ").Expect(null).Send("-ERR [AUTH] no").Capa("USER"));
        using Pop3Client client = await Connect(async, server);
        using var ntlm = new SaslNtlm(User, Password);
        await Assert.ThrowsAsync<Pop3CommandException>(() => Auth(async, client, ntlm));
        await Assert.ThrowsAsync<InvalidOperationException>(() => Auth(async, client, ntlm));
        Assert.True((await Capa(async, client)).User); // refused before anything was sent
    }
}
