using System.Security.Cryptography;
using System.Text;
using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.Scripted;

/// <summary>
/// APOP hashes the greeting's timestamp with the password. RFC 1939 section 7 makes the timestamp a
/// msg-id (<c>&lt;…@…&gt;</c>); a server free to choose arbitrary bytes there can recover the password
/// through MD5 collisions (CVE-2007-1558), so fetchmail and mpop refuse other shapes, and so does Poplib.
/// </summary>
public class ApopTimestampTests
{
    // The digest RFC 1939 prescribes, computed independently of the library.
#pragma warning disable CA5351
    private static string Digest(string timestamp, string secret) =>
        Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(timestamp + secret)));
#pragma warning restore CA5351

    public static TheoryData<bool, string, string> RealGreetings() => Both.Paths<string, string>(
        [
            ("+OK Dovecot (Debian) ready. <4de5.3.6b038a8e.fap1pmwAgZ9uWZjN7xgmbg==@vm>", "<4de5.3.6b038a8e.fap1pmwAgZ9uWZjN7xgmbg==@vm>"),
            ("+OK Dovecot ready. <11cd.1.5f7c3d3b.abc==@host>", "<11cd.1.5f7c3d3b.abc==@host>"),
            ("+OK localhost Cyrus POP3 3.6.1-Debian-3.6.1-4+deb12u5 server ready <9084659089110907955.1795395746@localhost>", "<9084659089110907955.1795395746@localhost>"),
            ("+OK POP3 Ready <4100.1795395755@vm>", "<4100.1795395755@vm>"), // GNU mailutils
            ("+OK Solid POP3 server ready <937.1795395662@localhost>", "<937.1795395662@localhost>"),
            ("+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>", "<1896.697170952@dbc.mtview.ca.us>"), // RFC 1939
            ("+OK <host.example> ready <a+b/c=d_e~f!#$%&'*?^`{|}@[192.0.2.1]>", "<a+b/c=d_e~f!#$%&'*?^`{|}@[192.0.2.1]>"), // every atext, a domain literal
        ]);

    [Theory]
    [MemberData(nameof(RealGreetings))]
    public async Task Real_servers_timestamps_are_used(bool async, string greeting, string timestamp)
    {
        await using var server = ScriptedServer.Start(s => s.Greet(greeting).On("CAPA", "-ERR")
            .On($"APOP alice {Digest(timestamp, "secret")}", "+OK welcome"));
        using Pop3Client client = await Both.Connect(async, server.Port, Both.Plain());
        Assert.Equal(timestamp, client.ApopTimestamp);

        await Both.Run(async, () => client.Apop("alice", "secret"), () => client.ApopAsync("alice", "secret"));
        Assert.Equal("APOP", client.AuthenticationMethod);
        await server.VerifyAsync();
    }

    public static TheoryData<bool, string> MalformedGreetings() => Both.Paths<string>(
        [
            "+OK ready <1896.697170952>",              // no @
            "+OK ready <1896@697170952@host>",         // two @
            "+OK ready <@host>",                       // nothing before the @
            "+OK ready <1896.697@>",                   // nothing after it
            "+OK ready <\"quoted\"@host>",             // a quoted local part: not atext
            "+OK ready <18(96)@host>",                 // a comment
            "+OK ready <1896\u0001\u00ff\u0080\u0017@host>", // what an MD5 collision block looks like
            "+OK ready <d\u00e9j\u00e0@host>",         // non-ASCII
        ]);

    [Theory]
    [MemberData(nameof(MalformedGreetings))]
    public async Task A_timestamp_that_is_not_a_msg_id_is_never_hashed(bool async, string greeting)
    {
        await using var server = ScriptedServer.Start(s => s.Greet(greeting).On("CAPA", "-ERR"));
        using Pop3Client client = await Both.Connect(async, server.Port, Both.Plain());
        Assert.Null(client.ApopTimestamp);
        Assert.Equal(greeting, client.Welcome);

        var error = await Assert.ThrowsAsync<NotSupportedException>(() => Both.Run(async, () => client.Apop("alice", "secret"), () => client.ApopAsync("alice", "secret")));
        Assert.Contains("msg-id", error.Message);
        string candidate = greeting[greeting.IndexOf('<', StringComparison.Ordinal)..(greeting.IndexOf('>', StringComparison.Ordinal) + 1)];
        Assert.Contains(Poplib.Diagnostics.ServerText.Escape(candidate), error.Message); // quoted, escaped
        Assert.DoesNotContain(error.Message, c => char.IsControl(c));
        await server.VerifyAsync();
        Assert.Equal(["CAPA"], server.Received);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Login_does_not_choose_apop_with_a_malformed_timestamp(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.Greet("+OK ready <no.at.sign>").Capa("USER")
            .On("USER tim", "+OK")
            .On("PASS tanstaaf", "+OK")
            .Capa("TOP"));
        using Pop3Client client = await Both.Connect(async, server.Port, Both.Plain());
        await Both.Run(async, () => client.Login("tim", "tanstaaf"), () => client.LoginAsync("tim", "tanstaaf"));
        Assert.Equal("USER/PASS", client.AuthenticationMethod);
        await server.VerifyAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Login_with_only_a_malformed_timestamp_says_why_apop_was_not_used(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.Greet("+OK ready <no.at.sign>").Capa("TOP"));
        using Pop3Client client = await Both.Connect(async, server.Port, Both.Plain());
        var error = await Assert.ThrowsAsync<Pop3AuthenticationException>(() => Both.Run(async, () => client.Login("tim", "tanstaaf"), () => client.LoginAsync("tim", "tanstaaf")));
        Assert.Equal(Pop3AuthenticationFailure.NoSupportedMethod, error.Reason);
        Assert.Contains("<no.at.sign>", error.Message);
        Assert.Contains("msg-id", error.Message);
        await server.VerifyAsync();
        Assert.Equal(["CAPA"], server.Received);
    }
}
