using System.Buffers;
using System.Globalization;
using System.Text;
using Poplib.Sasl;
using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.Scripted;

/// <summary>
/// Whatever the server says reaches exception messages — and from there terminals and logs — with
/// its control characters escaped: no ESC, BEL, C1 or bidi control survives, while the raw text
/// stays in the reply. UIDLs outside printable ASCII are protocol errors.
/// </summary>
public class ServerTextTests
{
    // An OSC that retitles the terminal, a CSI that clears it, a bidi override and an isolate.
    private const string Hostile = "\u001b]0;pwned\u0007 \u001b[2J\u202Eevil\u2066";

    private static readonly byte[] Crlf = "\r\n"u8.ToArray();

    /// <summary>No character a terminal, or a viewer that applies bidi rules, would act on.</summary>
    private static void AssertShowable(string text)
    {
        for (int i = 0; i < text.Length;)
        {
            Assert.True(Rune.DecodeFromUtf16(text.AsSpan(i), out Rune rune, out int used) == OperationStatus.Done, $"a lone surrogate in \"{text}\"");
            UnicodeCategory category = Rune.GetUnicodeCategory(rune);
            Assert.False(category is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator,
                $"U+{rune.Value:X4} ({category}) in \"{text}\"");
            i += used;
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Err_text_is_escaped_in_the_message_and_raw_in_the_reply(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.LoggedIn().On("STAT", "-ERR " + Hostile).On("NOOP", "+OK"));
        using Pop3Client client = await Both.LogIn(async, server.Port);

        var error = await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, client.Stat, () => client.StatAsync()));
        AssertShowable(error.Message);
        Assert.Contains(@"\x1B]0;pwned\x07 \x1B[2J\u202Eevil\u2066", error.Message);
        Assert.Equal(Hostile, error.ResponseText);
        Assert.Equal("-ERR " + Hostile, error.Response.Line);
        await Both.Run(async, client.Noop, () => client.NoopAsync()); // a -ERR leaves the session usable
        await server.VerifyAsync();
    }

    public static TheoryData<bool, byte[], string> EscapedCharacters() => Both.Paths<byte[], string>(
        [
            ("\u001b[31m"u8.ToArray(), @"\x1B[31m"),
            ([0x9B, (byte)'2', (byte)'J'], @"\x9B2J"),              // a C1 CSI as one raw byte (not UTF-8)
            ("a\u0085b"u8.ToArray(), @"a\x85b"),                    // C1 NEL, UTF-8 encoded
            ("\u007f\t\0"u8.ToArray(), @"\x7F\x09\x00"),
            ("x\u200By\uFEFFz\u061C"u8.ToArray(), @"x\u200By\uFEFFz\u061C"), // invisible and bidi format characters
            ("line\u2028para\u2029"u8.ToArray(), @"line\u2028para\u2029"),
            ("tag\U000E0041"u8.ToArray(), @"tag\U000E0041"),
            ([(byte)'b', 0xFF, 0xFE, 0x85, (byte)'c'], "b\u00FF\u00FE\\x85c"), // not UTF-8: read as Latin-1, where 0x80-0x9F are C1 controls
            ("Grüße 日本 🙂 ~\\"u8.ToArray(), "Grüße 日本 🙂 ~\\"),     // printable text stays as it is
        ]);

    [Theory]
    [MemberData(nameof(EscapedCharacters))]
    public async Task Every_kind_of_control_character_is_escaped(bool async, byte[] sent, string shown)
    {
        await using var server = ScriptedServer.Start(s => s.LoggedIn().Expect("STAT").SendRaw([.. "-ERR "u8, .. sent, .. Crlf]));
        using Pop3Client client = await Both.LogIn(async, server.Port);

        var error = await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, client.Stat, () => client.StatAsync()));
        AssertShowable(error.Message);
        Assert.EndsWith(": " + shown, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_refused_greeting_is_escaped(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.Greet("-ERR " + Hostile));
        var error = await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Connect(async, server.Port, Both.Plain()));
        AssertShowable(error.Message);
        Assert.Equal(Hostile, error.ResponseText);
    }

    [Theory]
    [InlineData(false, "STAT", "+OK \u001b]0;x\u0007")]
    [InlineData(true, "STAT", "+OK \u001b]0;x\u0007")]
    [InlineData(false, "UIDL 1", "+OK 1\u001b[2J")]
    [InlineData(true, "LIST 1", "+OK 1 \u001b[2J")]
    [InlineData(false, "STAT", "\u001b[2J neither +OK nor -ERR")]
    [InlineData(true, "LIST", "+OK\r\n1 \u009b2J\r\n.")]
    public async Task Malformed_replies_are_quoted_escaped(bool async, string command, string reply)
    {
        await using var server = ScriptedServer.Start(s => s.LoggedIn().On(command, reply));
        using Pop3Client client = await Both.LogIn(async, server.Port);

        var error = await Assert.ThrowsAsync<Pop3ProtocolException>(() => command switch
        {
            "STAT" => Both.Run(async, () => { client.Stat(); }, () => client.StatAsync()),
            "LIST" => Both.Run(async, () => { client.List(); }, () => client.ListAsync()),
            "LIST 1" => Both.Run(async, () => { client.List(1); }, () => client.ListAsync(1)),
            _ => Both.Run(async, () => { client.Uidl(1); }, () => client.UidlAsync(1)),
        });
        AssertShowable(error.Message);
        Assert.Matches(@"\\x(1B|9B)", error.Message); // ESC, or the one-byte CSI, shown as an escape
        Assert.False(client.IsConnected);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Capability_values_quoted_in_login_errors_are_escaped(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.Greet().Capa("SASL X-\u001b]0;PWNED\u0007 X-\u202EEVIL"));
        using Pop3Client client = await Both.Connect(async, server.Port, Both.Plain());

        var none = await Assert.ThrowsAsync<Pop3AuthenticationException>(() => Both.Run(async, () => client.Login("tim", "pw"), () => client.LoginAsync("tim", "pw")));
        AssertShowable(none.Message);
        Assert.Contains(@"X-\x1B]0;PWNED\x07 X-\u202EEVIL", none.Message);

        var token = new OAuth2AccessToken("token");
        var oauth = await Assert.ThrowsAsync<NotSupportedException>(() => Both.Run(async, () => client.Login("tim", token), () => client.LoginAsync("tim", token)));
        AssertShowable(oauth.Message);
        Assert.Contains(@"X-\x1B]0;PWNED\x07", oauth.Message);
        await server.VerifyAsync();
        Assert.Equal(["CAPA"], server.Received);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Scram_server_messages_quoted_in_errors_are_escaped(bool async)
    {
        const string ClientFirst = "biwsbj11c2VyLHI9ZnlrbytkMmxiYkZnT05Sdjlxa3hkYXdM";
        const string ServerFirst = "cj1meWtvK2QybGJiRmdPTlJ2OXFreGRhd0wzcmZjTkhZSlkxWlZ2V1ZzN2oscz1RU1hDUitRNnNlazhiZjkyLGk9NDA5Ng==";
        const string ClientFinal = "Yz1iaXdzLHI9ZnlrbytkMmxiYkZnT05Sdjlxa3hkYXdMM3JmY05IWUpZMVpWdldWczdqLHA9djBYOHYzQnoyVDBDSkdiSlF5RjBYK0hJNFRzPQ==";
        string malformed = Convert.ToBase64String("\u001b]0;pwned\u0007"u8);
        string rejected = Convert.ToBase64String("e=\u001b[2J\u202Eno"u8);

        await using var first = ScriptedServer.Start(s => s.Greet().Capa("SASL SCRAM-SHA-1")
            .Expect("AUTH SCRAM-SHA-1 " + ClientFirst).Send("+ " + malformed)
            .On("*", "-ERR cancelled"));
        using Pop3Client client = await Both.Connect(async, first.Port, Both.Plain());
        var mechanism = new SaslScramSha1("user", "pencil", "fyko+d2lbbFgONRv9qkxdawL");
        var error = await Assert.ThrowsAsync<Pop3AuthenticationException>(() => Both.Run(async, () => client.Auth(mechanism), () => client.AuthAsync(mechanism)));
        AssertShowable(error.Message);
        AssertShowable(error.InnerException!.Message);
        Assert.Contains(@"\x1B]0;pwned\x07", error.Message);

        await using var second = ScriptedServer.Start(s => s.Greet().Capa("SASL SCRAM-SHA-1")
            .Expect("AUTH SCRAM-SHA-1 " + ClientFirst).Send("+ " + ServerFirst)
            .Expect(ClientFinal).Send("+ " + rejected)
            .On("*", "-ERR cancelled"));
        using Pop3Client other = await Both.Connect(async, second.Port, Both.Plain());
        var again = new SaslScramSha1("user", "pencil", "fyko+d2lbbFgONRv9qkxdawL");
        error = await Assert.ThrowsAsync<Pop3AuthenticationException>(() => Both.Run(async, () => other.Auth(again), () => other.AuthAsync(again)));
        AssertShowable(error.Message);
        Assert.Contains(@"\x1B[2J\u202Eno", error.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_custom_mechanisms_message_is_escaped_too(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.Greet().Capa("SASL X-ECHO")
            .Expect("AUTH X-ECHO").Send("+ " + Convert.ToBase64String(Encoding.UTF8.GetBytes(Hostile)))
            .On("*", "-ERR cancelled"));
        using Pop3Client client = await Both.Connect(async, server.Port, Both.Plain());
        var mechanism = new EchoingMechanism();
        var error = await Assert.ThrowsAsync<Pop3AuthenticationException>(() => Both.Run(async, () => client.Auth(mechanism), () => client.AuthAsync(mechanism)));
        AssertShowable(error.Message);
        Assert.Contains(@"\x1B]0;pwned\x07", error.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_debug_transcript_shows_server_lines_escaped(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.Greet("+OK " + Hostile).Capa("X-\u001b[2J", "USER"));
        var writer = new StringWriter();
        Pop3ClientOptions options = Both.Plain();
        options.DebugLevel = 2;
        options.DebugWriter = writer;
        using Pop3Client client = await Both.Connect(async, server.Port, options);

        string transcript = writer.ToString().Replace(Environment.NewLine, "", StringComparison.Ordinal);
        AssertShowable(transcript);
        Assert.Contains(@"S: +OK \x1B]0;pwned\x07", transcript);
        Assert.Contains(@"S: X-\x1B[2J", transcript);
        Assert.Equal("+OK " + Hostile, client.Welcome); // the raw greeting is still there
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_uidl_with_a_byte_outside_printable_ascii_is_a_protocol_error(bool async)
    {
        // RFC 1939 section 7 (and RFC 6856, even in UTF-8 mode): a unique-id is 0x21 to 0x7E only.
        // 0x9B is a one-byte CSI to a terminal that honours C1 controls.
        await using var server = ScriptedServer.Start(s => s.LoggedIn()
            .Expect("UIDL").SendRaw([.. "+OK\r\n1 abc\r\n2 ab"u8, 0x9B, .. "2J\r\n.\r\n"u8]));
        using Pop3Client client = await Both.LogIn(async, server.Port);

        var error = await Assert.ThrowsAsync<Pop3ProtocolException>(() => Both.Run(async, client.Uidl, () => client.UidlAsync()));
        Assert.Contains("0x9B", error.Message);
        Assert.Contains("message 2", error.Message);
        Assert.Contains("0x21", error.Message);
        AssertShowable(error.Message);
        Assert.False(client.IsConnected);
    }

    [Theory]
    [InlineData(false, new byte[] { 0x9B }, "0x9B")]
    [InlineData(true, new byte[] { 0x9B }, "0x9B")]
    [InlineData(false, new byte[] { 0xC2, 0x9B }, "0x9B")] // the same C1 control, UTF-8 encoded: named by its value
    [InlineData(true, new byte[] { 0xFF }, "0xFF")]
    [InlineData(false, new byte[] { 0x1B }, "0x1B")]
    [InlineData(true, new byte[] { 0xE6, 0x97, 0xA5 }, "U+65E5")]
    public async Task A_single_uidl_with_a_byte_outside_printable_ascii_is_a_protocol_error(bool async, byte[] bad, string named)
    {
        await using var server = ScriptedServer.Start(s => s.LoggedIn().Expect("UIDL 3").SendRaw([.. "+OK 3 x"u8, .. bad, .. "y\r\n"u8]));
        using Pop3Client client = await Both.LogIn(async, server.Port);

        var error = await Assert.ThrowsAsync<Pop3ProtocolException>(() => Both.Run(async, () => client.Uidl(3), () => client.UidlAsync(3)));
        Assert.Contains(named, error.Message);
        Assert.Contains("message 3", error.Message);
        AssertShowable(error.Message);
        Assert.False(client.IsConnected);
    }

    /// <summary>A third-party mechanism that quotes the server's challenge in its error.</summary>
    private sealed class EchoingMechanism : ISaslMechanism
    {
        public string Name => "X-ECHO";

        public bool ExposesSecret => false;

        public bool HasInitialResponse => false;

        public byte[] Respond(ReadOnlySpan<byte> challenge) => throw new SaslException("unexpected challenge: " + Encoding.UTF8.GetString(challenge));

        public void Complete()
        {
        }
    }
}
