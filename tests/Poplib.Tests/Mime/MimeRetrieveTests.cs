using System.Text;
using MimeKit;
using Poplib.Testing;
using Poplib.Tests.Infrastructure;

namespace Poplib.Tests.Mime;

/// <summary>Poplib.MimeKit against the in-process server: every form, sync and async, each compared to MimeKit parsing the same bytes.</summary>
public class MimeRetrieveTests
{
    private const string User = "alice";
    private const string Password = "secret";

    private static async Task<(Pop3TestServer Server, Pop3Client Client)> Start(bool async, IEnumerable<byte[]> messages, Pop3ClientOptions? options = null, params Pop3Fault[] faults)
    {
        Pop3TestServer server = await Pop3TestServer.StartAsync(new Pop3TestServerOptions { Tls = Pop3TlsMode.None, Faults = faults });
        server.AddUser(User, Password, Pop3Mailbox.FromMessages(messages));
        options ??= new Pop3ClientOptions();
        options.AllowInsecureAuthentication = true;
        options.Timeout = TimeSpan.FromSeconds(20);
        Pop3Client client = await Both.Connect(async, server.Port, options);
        await Both.Run(async, () => client.User(User), () => client.UserAsync(User));
        await Both.Run(async, () => client.Pass(Password), () => client.PassAsync(Password));
        return (server, client);
    }

    private static Task<MimeMessage> Retr(bool async, Pop3Client client, int number) =>
        Both.Run(async, () => client.RetrMimeMessage(number), () => client.RetrMimeMessageAsync(number));

    private static async Task<List<Pop3MimeBatchMessage>> Batch(bool async, Pop3Client client, IEnumerable<int> numbers) =>
        async ? await client.RetrMimeMessagesAsync(numbers).ToListAsync() : client.RetrMimeMessages(numbers).ToList();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Each_message_parses_as_MimeKit_parses_its_bytes(bool async)
    {
        byte[][] messages = MimeSamples.Parseable();
        var (server, client) = await Start(async, messages);
        await using (server)
        using (client)
        {
            for (int i = 0; i < messages.Length; i++)
                MimeSamples.AssertSameAsReference(messages[i], await Retr(async, client, i + 1));

            // And what each one holds, in case MimeKit's own round trip hid a loss.
            MimeMessage multipart = await Retr(async, client, 1);
            Assert.Equal("Quarterly report — draft", multipart.Subject);
            Assert.Equal("Plain version.", multipart.TextBody!.TrimEnd());
            Assert.Equal("<p>HTML version.</p>", multipart.HtmlBody!.TrimEnd());
            MimePart attachment = Assert.IsType<MimePart>(Assert.Single(multipart.Attachments));
            Assert.Equal("data.bin", attachment.FileName);
            var decoded = new MemoryStream();
            attachment.Content!.DecodeTo(decoded);
            Assert.Equal(MimeSamples.AttachmentBytes, decoded.ToArray());

            MimeMessage eightBit = await Retr(async, client, 2);
            Assert.Equal("Grüße aus Köln", eightBit.Subject);
            Assert.Equal("Jürgen", Assert.IsType<MailboxAddress>(Assert.Single(eightBit.From)).Name);
            Assert.Equal("Schöne Grüße — ünïcödé, 日本語.", eightBit.TextBody!.TrimEnd());

            string html = (await Retr(async, client, 3)).HtmlBody!;
            Assert.Contains("<p>" + new string('x', 30_000) + "</p>", html, StringComparison.Ordinal);
            Assert.Contains("<p>" + new string('y', 30_000) + "</p>", html, StringComparison.Ordinal);

            Assert.Equal(".starts with a dot\n.\n..two dots\nlast line\n", (await Retr(async, client, 4)).TextBody!.ReplaceLineEndings("\n"));
            await Both.Run(async, () => client.Quit(), () => client.QuitAsync());
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_malformed_message_is_reported_and_the_session_goes_on(bool async)
    {
        byte[][] messages = [MimeSamples.Malformed(), MimeSamples.Multipart()];
        var (server, client) = await Start(async, messages);
        await using (server)
        using (client)
        {
            Pop3MimeFormatException error = await Assert.ThrowsAsync<Pop3MimeFormatException>(() => Retr(async, client, 1));
            Assert.Equal(1, error.MessageNumber);
            Assert.IsType<FormatException>(error.InnerException);
            Assert.Contains("Message 1", error.Message, StringComparison.Ordinal);

            // The rest of message 1 was skipped: the next reply is read as what it is.
            Assert.True(client.IsConnected);
            Assert.Equal(2, (await Both.Run(async, client.Stat, () => client.StatAsync())).Count);
            MimeSamples.AssertSameAsReference(messages[1], await Retr(async, client, 2));
            await Assert.ThrowsAsync<Pop3MimeFormatException>(() => Both.Run(async, () => client.TopHeaders(1), () => client.TopHeadersAsync(1)));
            HeaderList headers = await Both.Run(async, () => client.TopHeaders(2), () => client.TopHeadersAsync(2));
            Assert.Equal("Quarterly report — draft", headers[HeaderId.Subject]);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_missing_message_is_the_servers_error_and_the_session_goes_on(bool async)
    {
        var (server, client) = await Start(async, [MimeSamples.EightBit()]);
        await using (server)
        using (client)
        {
            await Assert.ThrowsAsync<Pop3CommandException>(() => Retr(async, client, 5));
            await Assert.ThrowsAsync<Pop3CommandException>(() => Both.Run(async, () => client.TopHeaders(5), () => client.TopHeadersAsync(5)));
            Assert.Equal("Grüße aus Köln", (await Retr(async, client, 1)).Subject);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TopHeaders_gives_the_header_without_the_body(bool async)
    {
        byte[][] messages = MimeSamples.Parseable();
        var (server, client) = await Start(async, messages);
        await using (server)
        using (client)
        {
            for (int i = 0; i < messages.Length; i++)
            {
                HeaderList headers = await Both.Run(async, () => client.TopHeaders(i + 1), () => client.TopHeadersAsync(i + 1));
                HeaderList expected = new MimeParser(new MemoryStream(messages[i])).ParseHeaders();
                Assert.Equal(expected.Select(h => (h.Field, h.Value)), headers.Select(h => (h.Field, h.Value)));
            }

            // The bytes of TOP n 0 stop at the blank line: nothing of the body was sent.
            Assert.Equal(Encoding.ASCII.GetBytes("Subject: Long lines\r\n"), (await Both.Run(async, () => client.Top(3, 0), () => client.TopAsync(3, 0))).Lines[1].ToArray().Concat("\r\n"u8.ToArray()));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_batch_has_one_outcome_per_message_and_parses_them_all(bool async)
    {
        byte[][] messages = [MimeSamples.Multipart(), MimeSamples.Malformed(), MimeSamples.EightBit(), MimeSamples.LongLines(), MimeSamples.DotStuffed()];
        var (server, client) = await Start(async, messages);
        await using (server)
        using (client)
        {
            Assert.True(client.Capabilities.Pipelining, "the batch is meant to run pipelined here");
            List<Pop3MimeBatchMessage> items = await Batch(async, client, [1, 2, 9, 3, 4, 5]);

            Assert.Equal([1, 2, 9, 3, 4, 5], items.Select(item => item.Number));
            Assert.Equal([true, true, false, true, true, true], items.Select(item => item.IsOk));
            Assert.Equal([true, false, false, true, true, true], items.Select(item => item.IsParsed));

            Pop3MimeBatchMessage malformed = items[1];
            Assert.Equal(2, Assert.IsType<Pop3MimeFormatException>(malformed.FormatError).MessageNumber);
            Assert.Same(malformed.FormatError, Assert.Throws<Pop3MimeFormatException>(() => malformed.Message));

            Pop3MimeBatchMessage missing = items[2];
            Assert.NotNull(missing.Error);
            Assert.Null(missing.FormatError);
            Assert.Same(missing.Error, Assert.Throws<Pop3CommandException>(() => missing.Message));

            // Messages stay valid after the batch has moved on, and each equals MimeKit's parse of its bytes.
            foreach (Pop3MimeBatchMessage item in items.Where(item => item.IsParsed))
                MimeSamples.AssertSameAsReference(messages[item.Number - 1], item.Message);

            Assert.Equal(5, (await Both.Run(async, client.Stat, () => client.StatAsync())).Count);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_batch_over_the_listing_parses_every_message(bool async)
    {
        byte[][] messages = [.. Enumerable.Range(0, 40).Select(i => MimeSamples.Parseable()[i % 4])];
        var (server, client) = await Start(async, messages);
        await using (server)
        using (client)
        {
            IReadOnlyList<Pop3ListEntry> listing = await Both.Run(async, client.List, () => client.ListAsync());
            List<Pop3MimeBatchMessage> items = async
                ? await client.RetrMimeMessagesAsync(listing).ToListAsync()
                : client.RetrMimeMessages(listing).ToList();
            Assert.Equal(Enumerable.Range(1, 40), items.Select(item => item.Number));
            foreach (Pop3MimeBatchMessage item in items)
                MimeSamples.AssertSameAsReference(messages[item.Number - 1], item.Message);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_callers_parser_options_are_used_by_every_form(bool async)
    {
        // A raw Latin-1 subject is no UTF-8, so MimeKit decodes it with ParserOptions.CharsetEncoding.
        byte[] latin1 = Encoding.Latin1.GetBytes("From: a@example.org\r\nSubject: Gr\u00fc\u00dfe\r\n\r\nbody\r\n");
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        ParserOptions koi8 = ParserOptions.Default.Clone();
        koi8.CharsetEncoding = Encoding.GetEncoding("koi8-r");
        const string AsKoi8 = "GrЭъe";
        var (server, client) = await Start(async, [latin1]);
        await using (server)
        using (client)
        {
            Assert.Equal("Grüße", (await Retr(async, client, 1)).Subject);
            Assert.Equal(AsKoi8, (await Both.Run(async, () => client.RetrMimeMessage(1, koi8), () => client.RetrMimeMessageAsync(1, koi8, CancellationToken.None))).Subject);
            Assert.Equal(AsKoi8, (await Both.Run(async, () => client.TopHeaders(1, koi8), () => client.TopHeadersAsync(1, koi8, CancellationToken.None)))[HeaderId.Subject]);
            List<Pop3MimeBatchMessage> batch = async ? await client.RetrMimeMessagesAsync([1], koi8).ToListAsync() : client.RetrMimeMessages([1], koi8).ToList();
            Assert.Equal(AsKoi8, Assert.Single(batch).Message.Subject);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_in_memory_limit_applies_and_closes_the_connection(bool async)
    {
        byte[] large = MimeSamples.LongLines(lineLength: 100_000);
        var options = new Pop3ClientOptions { MaxInMemoryMessageSize = 64 * 1024 };
        var (server, client) = await Start(async, [MimeSamples.EightBit(), large], options);
        await using (server)
        using (client)
        {
            Assert.Equal("Grüße aus Köln", (await Retr(async, client, 1)).Subject);
            Pop3LimitExceededException error = await Assert.ThrowsAsync<Pop3LimitExceededException>(() => Retr(async, client, 2));
            Assert.Equal(nameof(Pop3ClientOptions.MaxInMemoryMessageSize), error.LimitName);
            // As with Retr: a message past the limit is not drained (it might never end); the connection is closed.
            Assert.False(client.IsConnected);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_in_memory_limit_applies_to_each_message_of_a_batch(bool async)
    {
        var options = new Pop3ClientOptions { MaxInMemoryMessageSize = 64 * 1024 };
        var (server, client) = await Start(async, [MimeSamples.EightBit(), MimeSamples.LongLines(lineLength: 100_000), MimeSamples.EightBit()], options);
        await using (server)
        using (client)
        {
            var parsed = new List<int>();
            await Assert.ThrowsAsync<Pop3LimitExceededException>(async () =>
            {
                if (async)
                {
                    await foreach (Pop3MimeBatchMessage item in client.RetrMimeMessagesAsync([1, 2, 3]))
                        parsed.Add(item.Number);
                }
                else
                {
                    foreach (Pop3MimeBatchMessage item in client.RetrMimeMessages([1, 2, 3]))
                        parsed.Add(item.Number);
                }
            });
            Assert.Equal([1], parsed);
            Assert.False(client.IsConnected);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_connection_lost_mid_message_is_a_protocol_error_never_a_short_message(bool async)
    {
        byte[] message = MimeSamples.LongLines();
        var (server, client) = await Start(async, [message], faults: new DisconnectAfterBytes(Message: 1, Bytes: message.Length / 2));
        await using (server)
        using (client)
        {
            await Assert.ThrowsAnyAsync<Pop3ProtocolException>(() => Retr(async, client, 1));
            Assert.False(client.IsConnected);
        }
    }

    [Fact]
    public async Task Canceling_a_parse_closes_the_connection_at_once_instead_of_draining()
    {
        // 40 MB: draining it would take far longer than the cancellation allows.
        var (server, client) = await Start(async: true, [MimeSamples.LongLines(lineLength: 20_000_000)]);
        await using (server)
        using (client)
        {
            using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.RetrMimeMessageAsync(1, cancel.Token));
            Assert.False(client.IsConnected);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"canceled after {clock.Elapsed}");
        }
    }
}
