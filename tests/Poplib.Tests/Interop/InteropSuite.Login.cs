using System.Security.Authentication;
using Poplib.Sasl;
using Poplib.Tests.Infrastructure;
using Poplib.Tests.Interop.Lab;

namespace Poplib.Tests.Interop;

/// <summary>Logging in, with and without TLS: what <c>Login</c> chooses, each method the server offers, and the refusals.</summary>
public abstract partial class InteropSuite
{
    [InteropTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Stls_where_offered_then_login_chooses_the_expected_method(bool async)
    {
        FreshMailbox();
        if (!Server.Stls)
        {
            // Not offered: refused before anything is sent, and the plain session is intact.
            using Pop3Client plain = await ConnectAsync(async, Link.Plain);
            await Assert.ThrowsAsync<NotSupportedException>(() => Both.Run(async, () => plain.Stls(), () => plain.StlsAsync()));
            await LoginAsync(async, plain);
            await AssertLoggedInAndQuitAsync(async, plain, Server.LoginPlain);
            return;
        }

        using Pop3Client client = await ConnectAsync(async, Link.Stls, Pop3Lab.Options());
        Assert.True(client.IsEncrypted);
        Assert.False(client.Capabilities.Stls); // read again over TLS: STLS is gone
        await LoginAsync(async, client);
        Check(await Both.Run(async, () => client.Uidl(1), () => client.UidlAsync(1)), (await Both.Run(async, () => client.Retr(1), () => client.RetrAsync(1))).ToArray());
        await AssertLoggedInAndQuitAsync(async, client, Server.LoginTls);
    }

    [InteropTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Implicit_tls_where_offered_trusts_only_the_certificate_it_was_given(bool async)
    {
        FreshMailbox();
        if (!Server.HasTls)
        {
            // No TLS port: TLS against the plain one fails, quoting the greeting it got instead.
            var error = await Assert.ThrowsAsync<AuthenticationException>(() => Both.ConnectSsl(async, Pop3Lab.Host, Server.Port, Pop3Lab.Options()));
            Assert.Contains("the server answered in plain text, \"+OK", error.Message, StringComparison.Ordinal);
            return;
        }

        // The system's roots do not vouch for the lab's self-signed certificate.
        var untrusted = await Assert.ThrowsAsync<Pop3CertificateException>(() => Both.ConnectSsl(async, Pop3Lab.Host, Server.TlsPort!.Value));
        Assert.Equal(Pop3CertificateFailure.Untrusted, untrusted.Reason);

        using Pop3Client client = await ConnectAsync(async, Link.ImplicitTls);
        Assert.True(client.IsEncrypted);
        Assert.False(client.Capabilities.Stls);
        await LoginAsync(async, client);
        await AssertLoggedInAndQuitAsync(async, client, Server.LoginTls);
    }

    [InteropTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Without_tls_every_login_is_refused_before_anything_is_sent_unless_opted_in(bool async)
    {
        FreshMailbox();
        using (Pop3Client client = await ConnectAsync(async, Link.Plain, Pop3Lab.Options(allowInsecure: false)))
        {
            var refused = await Assert.ThrowsAsync<Pop3AuthenticationException>(() =>
                LoginAsync(async, client));
            Assert.Equal(Pop3AuthenticationFailure.InsecureConnection, refused.Reason);
            Assert.Contains(Server.LoginPlain, refused.Message, StringComparison.Ordinal);
            Assert.Equal(Server.Stls, refused.Message.Contains("the server offers STLS", StringComparison.Ordinal));
            await Assert.ThrowsAsync<Pop3AuthenticationException>(() => Both.Run(async, () => client.Pass(Pop3Lab.Password), () => client.PassAsync(Pop3Lab.Password)));
            Assert.True(client.IsConnected);
            Assert.Null(client.AuthenticationMethod);
        }

        using Pop3Client opted = await ConnectAsync(async, Link.Plain, Pop3Lab.Options(allowInsecure: true));
        await LoginAsync(async, opted);
        await AssertLoggedInAndQuitAsync(async, opted, Server.LoginPlain);
    }

    [InteropTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Every_sasl_mechanism_offered_logs_in_and_auth_is_refused_where_none_is(bool async)
    {
        FreshMailbox();
        if (Server.Sasl.Count == 0)
        {
            using Pop3Client client = await ConnectAsync(async, Server.Preferred);
            Assert.Empty(client.Capabilities.SaslMechanisms);
            await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async,
                () => client.Auth(new SaslPlain(Pop3Lab.User, Pop3Lab.Password)), () => client.AuthAsync(new SaslPlain(Pop3Lab.User, Pop3Lab.Password))));
            await UserPassAsync(async, client);
            await AssertLoggedInAndQuitAsync(async, client, "USER/PASS");
            return;
        }

        // DIGEST-MD5 (Cyrus) is obsolete (RFC 6331) and not implemented: Login never picks it.
        string[] implemented = [.. Server.Sasl.Where(m => m != "DIGEST-MD5")];
        Assert.NotEmpty(implemented);
        foreach (string name in implemented)
        {
            using Pop3Client client = await ConnectAsync(async, Server.Preferred);
            Assert.Contains(name, client.Capabilities.SaslMechanisms);
            ISaslMechanism Mechanism() => name switch
            {
                "PLAIN" => new SaslPlain(Pop3Lab.User, Pop3Lab.Password),
                "LOGIN" => new SaslLogin(Pop3Lab.User, Pop3Lab.Password),
                "CRAM-MD5" => new SaslCramMd5(Pop3Lab.User, Pop3Lab.Password),
                _ => throw new InvalidOperationException($"{Server} offers {name}: add it to this test."),
            };
            await Both.Run(async, () => client.Auth(Mechanism()), () => client.AuthAsync(Mechanism()));
            await AssertLoggedInAndQuitAsync(async, client, "AUTH " + name);
        }
    }

    [InteropTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Apop_logs_in_where_the_greeting_offers_it(bool async)
    {
        FreshMailbox();
        using Pop3Client client = await ConnectAsync(async, Server.Preferred);
        if (!Server.Apop)
        {
            Assert.Null(client.ApopTimestamp);
            await Assert.ThrowsAsync<NotSupportedException>(() => Both.Run(async,
                () => client.Apop(Pop3Lab.User, Pop3Lab.Password), () => client.ApopAsync(Pop3Lab.User, Pop3Lab.Password)));
            Assert.True(client.IsConnected);
            return;
        }

        await Both.Run(async, () => client.Apop(Pop3Lab.User, Pop3Lab.Password), () => client.ApopAsync(Pop3Lab.User, Pop3Lab.Password));
        await AssertLoggedInAndQuitAsync(async, client, "APOP");
    }

    [InteropTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task User_pass_logs_in_and_the_capabilities_are_read_again(bool async)
    {
        // A short timeout: a client that pipelined CAPA behind PASS would wait for Courier's answer in vain.
        FreshMailbox();
        Pop3ClientOptions options = Pop3Lab.Options(allowInsecure: Server.Preferred == Link.Plain);
        options.Timeout = TimeSpan.FromSeconds(5);
        using Pop3Client client = await ConnectAsync(async, Server.Preferred, options);
        Pop3Response pass = await UserPassAsync(async, client);
        Assert.Matches($"^{Server.PassReply}$", pass.Line);
        Assert.Equal(Server.Capa, client.Capabilities.IsSupported);
        Assert.Equal(Server.KeepsLoginCapabilities, client.Capabilities.User);
        await AssertLoggedInAndQuitAsync(async, client, "USER/PASS");
    }

    [InteropTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task User_and_pass_as_one_login_logs_in_and_a_refusal_leaves_the_session_in_step(bool async)
    {
        // LoginUserPass sends both in one write where the server lists PIPELINING (and USER, on a plain link).
        FreshMailbox();
        Pop3ClientOptions options = Pop3Lab.Options(allowInsecure: Server.Preferred == Link.Plain);
        // Courier answers a refused login after 5 s: the refusal gets a longer budget than the login.
        Pop3ClientOptions refusedOptions = Pop3Lab.Options(allowInsecure: Server.Preferred == Link.Plain);
        refusedOptions.Timeout = TimeSpan.FromSeconds(20);
        options.Timeout = TimeSpan.FromSeconds(5);
        using (Pop3Client refused = await ConnectAsync(async, Server.Preferred, refusedOptions))
        {
            // Some servers refuse the name, others only the password: either way both replies are read.
            var error = await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async,
                () => refused.LoginUserPass("nosuchuser", "wrong"), () => refused.LoginUserPassAsync("nosuchuser", "wrong")));
            Assert.Contains(error.Command, new[] { "USER", "PASS" });
            Assert.Equal(Pop3SessionState.Authorization, refused.State);
            if (!Server.ClosesAfterRefusedLogin)
            {
                Pop3Response quit = await Both.Run(async, () => refused.Quit(), () => refused.QuitAsync());
                Assert.True(quit.IsOk);
            }
        }

        using Pop3Client client = await ConnectAsync(async, Server.Preferred, options);
        Pop3Response pass = await Both.Run(async,
            () => client.LoginUserPass(Pop3Lab.User, Pop3Lab.Password), () => client.LoginUserPassAsync(Pop3Lab.User, Pop3Lab.Password));
        Assert.Matches($"^{Server.PassReply}$", pass.Line);
        Assert.Equal(Server.KeepsLoginCapabilities, client.Capabilities.User);
        await AssertLoggedInAndQuitAsync(async, client, "USER/PASS");
    }

    private static async Task<Pop3Response> UserPassAsync(bool async, Pop3Client client)
    {
        await Both.Run(async, () => client.User(Pop3Lab.User), () => client.UserAsync(Pop3Lab.User));
        return await Both.Run(async, () => client.Pass(Pop3Lab.Password), () => client.PassAsync(Pop3Lab.Password));
    }
}
