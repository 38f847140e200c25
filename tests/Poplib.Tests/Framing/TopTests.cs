using System.Text;
using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.Framing;

/// <summary>
/// TOP gives the header and at most the lines asked for, whatever the server sends: some send the
/// whole message, GNU mailutils one empty line too many. The excess is read, dropped and flagged,
/// through every TOP form, however the bytes are split.
/// </summary>
public class TopTests
{
    public enum Form
    {
        TopSync,
        TopAsync,
        TopToSync,
        TopToAsync,
        OpenTopSync,
        OpenTopAsync,
        TopManySync,
        TopManyAsync,
    }

    public static TheoryData<Form, bool> FormsAndSplits() => Both.FormsAndSplits<Form>();

    private static bool IsAsync(Form form) => form is Form.TopAsync or Form.TopToAsync or Form.OpenTopAsync or Form.TopManyAsync;

    /// <summary>TOP through one form: what the caller gets, and whether the excess flag is up.</summary>
    private static async Task<(string Content, bool Excess)> Top(Pop3Client client, Form form, int number, int lines)
    {
        switch (form)
        {
            case Form.TopSync:
            {
                Pop3Message message = client.Top(number, lines);
                return (Text(message.Content.Span), message.ExcessDiscarded);
            }

            case Form.TopAsync:
            {
                Pop3Message message = await client.TopAsync(number, lines);
                return (Text(message.Content.Span), message.ExcessDiscarded);
            }

            case Form.TopToSync:
            case Form.TopToAsync:
            {
                // TopTo returns the octets it wrote; the flag is only on the other forms' results.
                var sink = new MemoryStream();
                long written = form == Form.TopToSync ? client.TopTo(number, lines, sink) : await client.TopToAsync(number, lines, sink);
                Assert.Equal(sink.Length, written);
                return (Text(sink.ToArray()), false);
            }

            case Form.OpenTopSync:
            {
                using Pop3MessageStream stream = client.OpenTop(number, lines);
                // Small reads, so that the limit falls inside a read and across reads.
                var sink = new MemoryStream();
                byte[] buffer = new byte[5];
                int read;
                while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
                    sink.Write(buffer, 0, read);
                return (Text(sink.ToArray()), stream.ExcessDiscarded);
            }

            case Form.OpenTopAsync:
            {
                await using Pop3MessageStream stream = await client.OpenTopAsync(number, lines);
                var sink = new MemoryStream();
                await stream.CopyToAsync(sink);
                return (Text(sink.ToArray()), stream.ExcessDiscarded);
            }

            case Form.TopManySync:
            {
                string? content = null;
                Pop3BatchMessage? last = null;
                foreach (Pop3BatchMessage message in client.TopMany([number], lines))
                {
                    var sink = new MemoryStream();
                    message.Content.CopyTo(sink);
                    (content, last) = (Text(sink.ToArray()), message);
                }

                return (content!, last!.ExcessDiscarded);
            }

            default:
            {
                string? content = null;
                Pop3BatchMessage? last = null;
                await foreach (Pop3BatchMessage message in client.TopManyAsync([number], lines))
                {
                    var sink = new MemoryStream();
                    await message.Content.CopyToAsync(sink);
                    (content, last) = (Text(sink.ToArray()), message);
                }

                return (content!, last!.ExcessDiscarded);
            }
        }
    }

    private static string Text(ReadOnlySpan<byte> bytes) => Encoding.ASCII.GetString(bytes);

    private static async Task<Pop3Client> LoggedIn(ScriptedServer server, Form form, Pop3ClientOptions? options = null)
    {
        Pop3Client client = await Both.Connect(IsAsync(form), server.Port, options ?? Both.Plain());
        client.User("alice");
        client.Pass("secret");
        return client;
    }

    private static ScriptedServer Serving(string command, string reply, bool byteByByte) =>
        ScriptedServer.Start(s => s.LoggedIn(["USER", "TOP"]).Expect(command).SendRaw(reply, byteByByte).On("NOOP", "+OK still in step"));

    private const string Header = "From: a@example.org\r\nSubject: top\r\n";

    private static string Body(int lines, string ending = "\r\n") =>
        string.Concat(Enumerable.Range(1, lines).Select(i => $"body line {i}{ending}"));

    /// <summary>
    /// Serves <paramref name="wire"/> to TOP <paramref name="number"/> <paramref name="lines"/>, checks
    /// what the form returns and its flag (TopTo has none), and that the session is still in step.
    /// </summary>
    private static async Task Check(Form form, bool byteByByte, int number, int lines, string wire, string expected, bool excess)
    {
        await using var server = Serving($"TOP {number} {lines}", wire, byteByByte);
        using Pop3Client client = await LoggedIn(server, form);

        var (content, flagged) = await Top(client, form, number, lines);

        Assert.Equal(expected, content);
        Assert.Equal(excess && form is not (Form.TopToSync or Form.TopToAsync), flagged);
        Assert.Equal("still in step", (await Both.Run(IsAsync(form), client.Noop, () => client.NoopAsync())).Text);
        await server.VerifyAsync();
    }

    [Theory]
    [MemberData(nameof(FormsAndSplits))]
    public Task A_server_that_sends_the_whole_message_gives_only_the_header(Form form, bool byteByByte) =>
        Check(form, byteByByte, 1, 0, "+OK\r\n" + Header + "\r\n" + Body(10) + ".\r\n", Header + "\r\n", excess: true);

    [Theory]
    [MemberData(nameof(FormsAndSplits))]
    public Task Top_5_3_gives_three_body_lines_of_ten_with_dots_and_bare_line_feeds(Form form, bool byteByByte)
    {
        // Bare LFs; the third body line is dot-stuffed (one line, its dot removed), an excess line too.
        string header = Header.Replace("\r\n", "\n", StringComparison.Ordinal);
        string wire = "+OK\n" + header + "\n" + "one\n" + "two\n" + "..three\n" + "four\n" + "..five\n" + Body(5, "\n") + ".\n";
        return Check(form, byteByByte, 5, 3, wire, header + "\n" + "one\ntwo\n.three\n", excess: true);
    }

    [Theory]
    [MemberData(nameof(FormsAndSplits))]
    public Task Mailutils_extra_empty_line_is_dropped_and_flagged_not_an_error(Form form, bool byteByByte) =>
        Check(form, byteByByte, 1, 0, "+OK\r\n" + Header + "\r\n\r\n.\r\n", Header + "\r\n", excess: true);

    [Theory]
    [MemberData(nameof(FormsAndSplits))]
    public Task A_server_that_sends_what_was_asked_is_not_flagged(Form form, bool byteByByte) =>
        // Stuffed lines in the header and body; a header line that is only a CR is not its end.
        Check(form, byteByByte, 2, 2, "+OK\r\n" + "..X: dotted\r\n" + "\r\r\n" + Header + "\r\n" + "..a\r\n" + "b\r\n" + ".\r\n",
            ".X: dotted\r\n\r\r\n" + Header + "\r\n.a\r\nb\r\n", excess: false);

    [Theory]
    [MemberData(nameof(FormsAndSplits))]
    public Task A_message_without_a_body_keeps_its_whole_header(Form form, bool byteByByte) =>
        // No empty line at all: everything is header, nothing is counted as body.
        Check(form, byteByByte, 3, 0, "+OK\r\n" + Header + "X-Last: 1\r\n.\r\n", Header + "X-Last: 1\r\n", excess: false);

    [Theory]
    [InlineData(Form.TopSync, 500)]
    [InlineData(Form.TopAsync, 500)]
    [InlineData(Form.TopToSync, 500)]
    [InlineData(Form.OpenTopAsync, 500)]
    [InlineData(Form.TopManySync, 500)]
    [InlineData(Form.TopManyAsync, 500)]
    [InlineData(Form.TopSync, 0)]
    [InlineData(Form.OpenTopAsync, 0)]
    public async Task Excess_past_its_bound_closes_the_connection(Form form, long bound)
    {
        // 100 excess lines of about 14 octets: far past a bound of 500; a bound of 0 refuses any excess.
        await using var server = Serving("TOP 1 1", "+OK\r\n" + Header + "\r\n" + Body(101) + ".\r\n", byteByByte: false);
        Pop3ClientOptions options = Both.Plain();
        options.MaxTopExcessOctets = bound;
        using Pop3Client client = await LoggedIn(server, form, options);

        var error = await Assert.ThrowsAsync<Pop3LimitExceededException>(() => Top(client, form, 1, 1));

        Assert.Equal(nameof(Pop3ClientOptions.MaxTopExcessOctets), error.LimitName);
        Assert.False(client.IsConnected);
    }
}
