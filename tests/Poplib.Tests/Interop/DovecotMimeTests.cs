using MimeKit;
using Poplib.Tests.Infrastructure;
using Poplib.Tests.Mime;

namespace Poplib.Tests.Interop;

/// <summary>Poplib.MimeKit against a real Dovecot: each message parsed over POP3 equals MimeKit's parse of the file it was stored from.</summary>
[Collection(nameof(DovecotCollection))]
public class DovecotMimeTests(DovecotFixture fixture)
{
    private async Task<(Pop3Client Client, byte[][] Messages)> LogIn(bool async, byte[][] messages)
    {
        var (user, password) = fixture.Server.AddUser(messages);
        Pop3Client client = await Both.Connect(async, fixture.Server.PlainPort, fixture.Server.Options(allowInsecure: true));
        await DovecotTests.UserPassAndStat(async, client, user, password, messages.Length);
        return (client, messages);
    }

    [DovecotTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Every_form_equals_MimeKit_parsing_the_stored_bytes(bool async)
    {
        var (client, messages) = await LogIn(async, [.. MimeSamples.Parseable(), MimeSamples.Malformed(), MimeSamples.Multipart()]);
        using (client)
        {
            for (int n = 1; n <= messages.Length; n++)
            {
                int number = n;
                if (number == 5)
                {
                    // The malformed one: reported, and the session goes on with the next message.
                    Assert.Equal(5, (await Assert.ThrowsAsync<Pop3MimeFormatException>(() =>
                        Both.Run(async, () => client.RetrMimeMessage(number), () => client.RetrMimeMessageAsync(number)))).MessageNumber);
                    continue;
                }

                MimeMessage message = await Both.Run(async, () => client.RetrMimeMessage(number), () => client.RetrMimeMessageAsync(number));
                MimeSamples.AssertSameAsReference(messages[number - 1], message);
                HeaderList headers = await Both.Run(async, () => client.TopHeaders(number), () => client.TopHeadersAsync(number));
                Assert.Equal(new MimeParser(new MemoryStream(messages[number - 1])).ParseHeaders().Select(h => (h.Field, h.RawValue)), headers.Select(h => (h.Field, h.RawValue)));
            }

            IReadOnlyList<Pop3ListEntry> listing = await Both.Run(async, client.List, () => client.ListAsync());
            List<Pop3MimeBatchMessage> batch = async
                ? await client.RetrMimeMessagesAsync(listing).ToListAsync()
                : client.RetrMimeMessages(listing).ToList();
            Assert.Equal(Enumerable.Range(1, messages.Length), batch.Select(item => item.Number));
            Assert.Equal([5], batch.Where(item => item.FormatError is not null).Select(item => item.Number));
            foreach (Pop3MimeBatchMessage item in batch.Where(item => item.IsParsed))
                MimeSamples.AssertSameAsReference(messages[item.Number - 1], item.Message);

            await Both.Run(async, () => client.Quit(), () => client.QuitAsync());
        }
    }
}
