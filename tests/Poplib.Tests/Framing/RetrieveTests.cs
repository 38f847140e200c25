using System.Text;
using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.Framing;

/// <summary>Message bodies through every retrieval form: unstuffing, terminators, odd servers, EOF.</summary>
public class RetrieveTests
{
    public enum Form
    {
        RetrSync,
        RetrAsync,
        RetrToSync,
        RetrToAsync,
        OpenRetrSync,
        OpenRetrAsync,
    }

    public static TheoryData<Form, bool> FormsAndSplits() => Both.FormsAndSplits<Form>();

    private static async Task<byte[]> Retrieve(Pop3Client client, Form form, int number = 1)
    {
        switch (form)
        {
            case Form.RetrSync:
                return client.Retr(number).ToArray();
            case Form.RetrAsync:
                return (await client.RetrAsync(number)).ToArray();
            case Form.RetrToSync:
            {
                var sink = new MemoryStream();
                long n = client.RetrTo(number, sink);
                Assert.Equal(sink.Length, n);
                return sink.ToArray();
            }

            case Form.RetrToAsync:
            {
                var sink = new MemoryStream();
                long n = await client.RetrToAsync(number, sink);
                Assert.Equal(sink.Length, n);
                return sink.ToArray();
            }

            case Form.OpenRetrSync:
            {
                using Pop3MessageStream stream = client.OpenRetr(number);
                var sink = new MemoryStream();
                // Small reads so that terminators fall across read calls too.
                byte[] buffer = new byte[7];
                int read;
                while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
                    sink.Write(buffer, 0, read);
                Assert.Equal(sink.Length, stream.Position);
                return sink.ToArray();
            }

            default:
            {
                await using Pop3MessageStream stream = await client.OpenRetrAsync(number);
                var sink = new MemoryStream();
                await stream.CopyToAsync(sink);
                return sink.ToArray();
            }
        }
    }

    private static bool IsAsync(Form form) => form is Form.RetrAsync or Form.RetrToAsync or Form.OpenRetrAsync;

    private static async Task<Pop3Client> LoggedIn(ScriptedServer server, bool async, Pop3ClientOptions? options = null)
    {
        Pop3Client client = await Both.Connect(async, server.Port, options ?? Both.Plain());
        client.User("alice");
        client.Pass("secret");
        return client;
    }

    [Theory]
    [MemberData(nameof(FormsAndSplits))]
    public async Task Dot_stuffing_is_removed_exactly(Form form, bool byteByByte)
    {
        string wire =
            "Subject: dots\r\n" +
            "\r\n" +
            "..leading dot\r\n" +
            "..\r\n" +              // a body line that is only "." is stuffed as ".."
            "...\r\n" +             // ".." stuffed
            ".x not stuffed by a sloppy server\r\n" +
            "middle . dot\r\n" +
            "\r\n" +
            ".\r\n";
        string expected =
            "Subject: dots\r\n" +
            "\r\n" +
            ".leading dot\r\n" +
            ".\r\n" +
            "..\r\n" +
            "x not stuffed by a sloppy server\r\n" +
            "middle . dot\r\n" +
            "\r\n";
        await using var server = ScriptedServer.Start(s => s.LoggedIn().Expect("RETR 1").SendRaw("+OK 120 octets\r\n" + wire, byteByByte).On("NOOP", "+OK"));
        using Pop3Client client = await LoggedIn(server, IsAsync(form));

        Assert.Equal(expected, Encoding.ASCII.GetString(await Retrieve(client, form)));
        client.Noop(); // the session is still in step after the terminator
        await server.VerifyAsync();
    }

    [Theory]
    [MemberData(nameof(FormsAndSplits))]
    public async Task Bare_LF_lines_and_terminator_are_accepted(Form form, bool byteByByte)
    {
        await using var server = ScriptedServer.Start(s => s.LoggedIn().Expect("RETR 1")
            .SendRaw("+OK\nSubject: lf\n\n..dot\nlast\n.\n", byteByByte).On("NOOP", "+OK"));
        using Pop3Client client = await LoggedIn(server, IsAsync(form));

        Assert.Equal("Subject: lf\n\n.dot\nlast\n", Encoding.ASCII.GetString(await Retrieve(client, form)));
        client.Noop();
    }

    [Theory]
    [MemberData(nameof(FormsAndSplits))]
    public async Task Empty_message_and_final_line_without_newline(Form form, bool byteByByte)
    {
        // A stored message whose last line had no line ending: the server adds CRLF before ".".
        await using var server = ScriptedServer.Start(s => s.LoggedIn()
            .Expect("RETR 1").SendRaw("+OK\r\n.\r\n", byteByByte)
            .Expect("RETR 2").SendRaw("+OK\r\nSubject: x\r\n\r\nno newline at end\r\n.\r\n", byteByByte));
        using Pop3Client client = await LoggedIn(server, IsAsync(form));

        Assert.Empty(await Retrieve(client, form, 1));
        Assert.Equal("Subject: x\r\n\r\nno newline at end\r\n", Encoding.ASCII.GetString(await Retrieve(client, form, 2)));
    }

    [Theory]
    [MemberData(nameof(FormsAndSplits))]
    public async Task Eof_mid_body_is_an_error_never_a_short_message(Form form, bool byteByByte)
    {
        await using var server = ScriptedServer.Start(s => s.LoggedIn().Expect("RETR 1")
            .SendRaw("+OK\r\nSubject: cut\r\n\r\nfirst line\r\nsecond li", byteByByte).Close());
        using Pop3Client client = await LoggedIn(server, IsAsync(form));

        var error = await Assert.ThrowsAsync<Pop3ProtocolException>(() => Retrieve(client, form));
        Assert.Contains("incomplete", error.Message);
        Assert.False(client.IsConnected);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Eof_right_after_a_lone_dot_without_newline_is_an_error(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.LoggedIn().Expect("RETR 1").SendRaw("+OK\r\nbody\r\n.").Close());
        using Pop3Client client = await LoggedIn(server, async);
        await Assert.ThrowsAsync<Pop3ProtocolException>(() => Retrieve(client, async ? Form.RetrAsync : Form.RetrSync));
    }

    [Theory]
    [InlineData(Form.RetrSync)]
    [InlineData(Form.RetrToAsync)]
    [InlineData(Form.OpenRetrSync)]
    [InlineData(Form.OpenRetrAsync)]
    public async Task Long_body_lines_pass_whatever_the_status_line_limit(Form form)
    {
        // Real HTML mail has 50 KB lines; poplib gives up at 2048 bytes.
        string longLine = string.Concat(Enumerable.Repeat("<td>0123456789</td>", 15_000)); // ~285 KB
        string body = "Content-Type: text/html\r\n\r\n" + longLine + "\r\n." + longLine + "\r\n";
        string stuffed = body.Replace("\r\n.", "\r\n..", StringComparison.Ordinal);
        await using var server = ScriptedServer.Start(s => s.LoggedIn().Expect("RETR 1").SendRaw("+OK\r\n" + stuffed + ".\r\n"));
        var options = Both.Plain();
        options.MaxLineLength = 1024;
        using Pop3Client client = await LoggedIn(server, IsAsync(form), options);

        Assert.Equal(body, Encoding.ASCII.GetString(await Retrieve(client, form)));
    }

    [Fact]
    public async Task Retr_gives_poplib_lines_and_octets()
    {
        await using var server = ScriptedServer.Start(s => s.LoggedIn().Expect("RETR 1").SendRaw("+OK 30 octets\r\nA: 1\r\n\r\n..x\r\nend\r\n.\r\n"));
        using Pop3Client client = await LoggedIn(server, async: false);

        Pop3Message message = client.Retr(1);
        Assert.Equal("30 octets", message.Response.Text);
        Assert.Equal(["A: 1", "", ".x", "end"], message.Lines.Select(l => Encoding.ASCII.GetString(l.Span)));
        Assert.Equal(17, message.Octets);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Lines_read_in_any_order_match_the_content(bool async)
    {
        // CRLF and bare LF endings, an empty line, and a line that is only a CR.
        await using var server = ScriptedServer.Start(s => s.LoggedIn()
            .Expect("RETR 1").SendRaw("+OK\r\nA: 1\r\nB: 2\n\r\n\r\r\nbody\r\nlast\r\n.\r\n")
            .Expect("RETR 2").SendRaw("+OK\r\n.\r\n"));
        using Pop3Client client = await LoggedIn(server, async);

        Pop3Message message = await Both.Run(async, () => client.Retr(1), () => client.RetrAsync(1));
        string[] expected = ["A: 1", "B: 2", "", "\r", "body", "last"];
        IReadOnlyList<ReadOnlyMemory<byte>> lines = message.Lines;
        Assert.Equal(expected.Length, lines.Count);
        Assert.Equal(expected, lines.Select(l => Encoding.ASCII.GetString(l.Span)));
        foreach (int i in new[] { 5, 0, 3, 4, 1, 2, 5, 4, 3, 2, 1, 0, 2 })
            Assert.Equal(expected[i], Encoding.ASCII.GetString(lines[i].Span));
        Assert.Throws<ArgumentOutOfRangeException>(() => lines[6]);
        Assert.Throws<ArgumentOutOfRangeException>(() => lines[-1]);

        Pop3Message empty = await Both.Run(async, () => client.Retr(2), () => client.RetrAsync(2));
        Assert.Empty(empty.Lines);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Top_forms_send_top_and_unstuff(bool async)
    {
        await using var server = ScriptedServer.Start(s => s.LoggedIn()
            .Expect("TOP 2 0").SendRaw("+OK\r\nSubject: t\r\n\r\n.\r\n")
            .Expect("TOP 2 1").SendRaw("+OK\r\nSubject: t\r\n\r\n..one\r\n.\r\n")
            .Expect("TOP 2 5").SendRaw("+OK\r\nSubject: t\r\n.\r\n"));
        using Pop3Client client = await LoggedIn(server, async);

        Pop3Message head = await Both.Run(async, () => client.Top(2, 0), () => client.TopAsync(2, 0));
        Assert.Equal("Subject: t\r\n\r\n", Encoding.ASCII.GetString(head.Content.Span));
        var sink = new MemoryStream();
        await Both.Run(async, () => client.TopTo(2, 1, sink), () => client.TopToAsync(2, 1, sink));
        Assert.Equal("Subject: t\r\n\r\n.one\r\n", Encoding.ASCII.GetString(sink.ToArray()));
        await using Pop3MessageStream stream = await Both.Run(async, () => client.OpenTop(2, 5), () => client.OpenTopAsync(2, 5));
        Assert.Equal("Subject: t\r\n", new StreamReader(stream).ReadToEnd());
    }

    [Fact]
    public async Task An_open_message_stream_blocks_other_commands_until_disposed_which_drains_it()
    {
        await using var server = ScriptedServer.Start(s => s.LoggedIn().Expect("RETR 1")
            .SendRaw("+OK\r\nline 1\r\nline 2\r\nline 3\r\n.\r\n").On("NOOP", "+OK"));
        using Pop3Client client = await LoggedIn(server, async: false);

        Pop3MessageStream stream = client.OpenRetr(1);
        Assert.Equal((byte)'l', stream.ReadByte());
        Assert.Throws<InvalidOperationException>(() => client.Noop());
        stream.Dispose();
        Assert.False(stream.CanRead);
        Assert.Throws<ObjectDisposedException>(() => stream.ReadByte());
        client.Noop();
        await server.VerifyAsync();
    }

    [Fact]
    public async Task Failing_destination_keeps_the_session_in_step()
    {
        await using var server = ScriptedServer.Start(s => s.LoggedIn().Expect("RETR 1")
            .SendRaw("+OK\r\n" + new string('x', 200_000) + "\r\n.\r\n").On("NOOP", "+OK"));
        using Pop3Client client = await LoggedIn(server, async: false);

        Assert.Throws<IOException>(() => client.RetrTo(1, new FailingStream()));
        Assert.True(client.IsConnected);
        client.Noop();
        await server.VerifyAsync();
    }

    [Fact]
    public async Task In_memory_retrieval_is_bounded()
    {
        await using var server = ScriptedServer.Start(s => s.LoggedIn().Expect("RETR 1").SendRaw("+OK\r\n" + new string('x', 300_000) + "\r\n.\r\n"));
        var options = Both.Plain();
        options.MaxInMemoryMessageSize = 100_000;
        using Pop3Client client = await LoggedIn(server, async: false, options);

        var error = Assert.Throws<Pop3LimitExceededException>(() => client.Retr(1));
        Assert.Equal(nameof(Pop3ClientOptions.MaxInMemoryMessageSize), error.LimitName);
        Assert.Contains("RetrTo", error.Message);
        Assert.False(client.IsConnected);
    }

    private sealed class FailingStream : MemoryStream
    {
        public override void Write(byte[] buffer, int offset, int count) => throw new IOException("disk full");
    }
}
