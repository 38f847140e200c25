using System.Net;
using Poplib.Sasl;
using Poplib.Testing;

namespace Poplib.Tests.Negotiate;

/// <summary>
/// AUTH GSSAPI (RFC 4752) against the in-process server, whose side is MIT Kerberos' acceptor with the
/// keytab of the private realm (scripts/kdc.sh, a real KDC on 127.0.0.1): the client gets its ticket
/// with a password or from the ticket cache (kinit), the server proves itself (mutual authentication),
/// and the security layer is negotiated to "none".
/// </summary>
[Collection(nameof(KdcCollection))]
public class GssapiTests(KdcFixture kdc)
{
    private async Task<Pop3TestServer> ServerAsync(Pop3SaslMechanisms mechanisms, Pop3TlsMode tls = Pop3TlsMode.Implicit)
    {
        _ = kdc.Directory; // the realm up first
        Pop3TestServer server = await NegotiateWorld.StartAsync(mechanisms, tls);
        NegotiateWorld.AddUser(server, "plain-password", messages: 4, name: KdcFixture.User);
        return server;
    }

    [KerberosTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Gssapi_with_a_password_logs_in_and_the_server_proves_itself(bool async)
    {
        await using Pop3TestServer server = await ServerAsync(Pop3SaslMechanisms.Gssapi);
        using Pop3Client client = await NegotiateWorld.Connect(async, server);
        Assert.Contains("GSSAPI", client.Capabilities.SaslMechanisms);

        using var gssapi = new SaslGssapi(kdc.Principal, KdcFixture.Password);
        Pop3Response response = await NegotiateWorld.Auth(async, client, gssapi);

        Assert.True(response.IsOk);
        Assert.Equal("AUTH GSSAPI", client.AuthenticationMethod);
        Assert.Equal("pop/localhost", gssapi.EffectiveTargetName);
        Assert.Equal(4, (await NegotiateWorld.Stat(async, client)).Count);
        Assert.Empty(server.Errors);
    }

    [KerberosTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Gssapi_uses_the_ticket_from_kinit(bool async)
    {
        await using Pop3TestServer server = await ServerAsync(Pop3SaslMechanisms.Gssapi);
        kdc.Kinit();
        try
        {
            using Pop3Client client = await NegotiateWorld.Connect(async, server);
            using var gssapi = new SaslGssapi(); // no password: the user's ticket cache
            await NegotiateWorld.Auth(async, client, gssapi);
            Assert.True(client.IsAuthenticated);
            Assert.Equal(4, (await NegotiateWorld.Stat(async, client)).Count);
        }
        finally
        {
            kdc.Kdestroy();
        }

        // With the cache emptied there is nothing to log in with: refused before anything is sent.
        using Pop3Client without = await NegotiateWorld.Connect(async, server);
        using var noTicket = new SaslGssapi(CredentialCache.DefaultNetworkCredentials);
        var unavailable = await Assert.ThrowsAsync<Pop3AuthenticationException>(() => NegotiateWorld.Auth(async, without, noTicket));
        Assert.Equal(Pop3AuthenticationFailure.MechanismUnavailable, unavailable.Reason);
        Assert.True(without.IsConnected);
    }

    [KerberosTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_password_the_kdc_refuses_sends_nothing_and_the_session_goes_on(bool async)
    {
        await using Pop3TestServer server = await ServerAsync(Pop3SaslMechanisms.Gssapi | Pop3SaslMechanisms.Plain);
        using Pop3Client client = await NegotiateWorld.Connect(async, server);

        using var wrong = new SaslGssapi(kdc.Principal, "not the password");
        var unavailable = await Assert.ThrowsAsync<Pop3AuthenticationException>(() => NegotiateWorld.Auth(async, client, wrong));
        Assert.Equal(Pop3AuthenticationFailure.MechanismUnavailable, unavailable.Reason);
        Assert.Contains("Nothing was sent", unavailable.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not the password", unavailable.Message, StringComparison.Ordinal);

        await NegotiateWorld.Auth(async, client, new SaslPlain(KdcFixture.User, "plain-password"));
        Assert.Equal("AUTH PLAIN", client.AuthenticationMethod);
    }

    [KerberosTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Login_prefers_gssapi_and_moves_on_when_kerberos_cannot_run(bool async)
    {
        await using Pop3TestServer server = await ServerAsync(Pop3SaslMechanisms.Plain | Pop3SaslMechanisms.Ntlm | Pop3SaslMechanisms.Gssapi);
        using (Pop3Client client = await NegotiateWorld.Connect(async, server))
        {
            await NegotiateWorld.Login(async, client, kdc.Principal, KdcFixture.Password);
            Assert.Equal("AUTH GSSAPI", client.AuthenticationMethod);
        }

        // A user the realm does not know (a password for the POP server only): no ticket, so NTLM, the next offered.
        string local = NegotiateWorld.AddUser(server, "local-only 1");
        using Pop3Client other = await NegotiateWorld.Connect(async, server);
        await NegotiateWorld.Login(async, other, local, "local-only 1");
        Assert.Equal("AUTH NTLM", other.AuthenticationMethod);
    }

    [KerberosTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Without_tls_gssapi_needs_the_opt_in(bool async)
    {
        await using Pop3TestServer server = await ServerAsync(Pop3SaslMechanisms.Gssapi, Pop3TlsMode.None);
        using (Pop3Client strict = await NegotiateWorld.Connect(async, server, tls: false))
        {
            using var refused = new SaslGssapi(kdc.Principal, KdcFixture.Password);
            var error = await Assert.ThrowsAsync<Pop3AuthenticationException>(() => NegotiateWorld.Auth(async, strict, refused));
            Assert.Equal(Pop3AuthenticationFailure.InsecureConnection, error.Reason);
        }

        using Pop3Client optedIn = await NegotiateWorld.Connect(async, server, tls: false, allowInsecure: true);
        using var gssapi = new SaslGssapi(kdc.Principal, KdcFixture.Password);
        await NegotiateWorld.Auth(async, optedIn, gssapi);
        Assert.True(optedIn.IsAuthenticated);
        Assert.False(gssapi.IsChannelBound);
    }
}
