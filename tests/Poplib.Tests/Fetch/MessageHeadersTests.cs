using System.Text;
using Poplib.Fetch.Delivery;

namespace Poplib.Tests.Fetch;

/// <summary>The Message-ID fetch records (for the UIDL-change safety net), read from the header block as delivered.</summary>
public sealed class MessageHeadersTests
{
    [Theory]
    [InlineData("Message-ID: <a@b>\n\n", "<a@b>")]
    [InlineData("Subject: x\r\nmessage-id:   <crlf@b>  \r\nTo: y\r\n\r\n", "<crlf@b>")]
    [InlineData("MESSAGE-ID:<tight@b>", "<tight@b>")]
    [InlineData("Message-ID:\n <folded@b>\n\n", "<folded@b>")]
    [InlineData("Message-ID: <part\n\tone@b>\n continued\nTo: x\n", "<part one@b> continued")]
    [InlineData("Message-ID: <first@b>\nMessage-ID: <second@b>\n", "<first@b>")]
    [InlineData("Subject: x\n\nMessage-ID: <in-body@b>\n", null)]
    [InlineData("X-Message-ID: <other@b>\nMessage-IDs: <no@b>\nMessage-ID <no-colon@b>\n", null)]
    [InlineData("Message-ID:   \n\n", null)]
    [InlineData("\nMessage-ID: <after-empty-line@b>\n", null)]
    [InlineData("", null)]
    [InlineData("Message-ID: <\u00e9t\u00e9@b\u00fc>\u00a0\n", "<\u00e9t\u00e9@b\u00fc>")]
    public void The_first_Message_ID_of_the_header_unfolded_and_trimmed(string header, string? expected) =>
        Assert.Equal(expected, MessageHeaders.FindMessageId(Encoding.UTF8.GetBytes(header)));

    [Fact]
    public void Bytes_that_are_not_UTF_8_become_replacement_characters_not_an_error() =>
        Assert.Equal("<\uFFFD\uFFFD@b>", MessageHeaders.FindMessageId([.. "Message-ID: <"u8, 0xFF, 0xC3, .. "@b>\n"u8]));

    [Fact]
    public void A_header_of_the_largest_captured_size_is_read_to_its_end()
    {
        string filler = string.Concat(Enumerable.Range(0, 1_000).Select(i => $"X-Filler-{i}: {new string('f', 50)}\n"));
        Assert.Equal("<last@b>", MessageHeaders.FindMessageId(Encoding.UTF8.GetBytes(filler + "Message-ID: <last@b>\n\nbody")));
    }
}
