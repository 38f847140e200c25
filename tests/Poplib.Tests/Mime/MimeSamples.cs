using System.Text;
using MimeKit;

namespace Poplib.Tests.Mime;

/// <summary>
/// Messages that exercise the MIME parse over POP3: structure, encodings, long lines, dot-stuffing,
/// and one that MimeKit refuses. CRLF line endings throughout, as a mail store keeps them.
/// </summary>
internal static class MimeSamples
{
    /// <summary>The attachment's bytes: every byte value, so base64 has to round-trip exactly.</summary>
    public static readonly byte[] AttachmentBytes = [.. Enumerable.Range(0, 3000).Select(i => (byte)(i * 7 % 256))];

    public static byte[] Multipart() => Ascii(
        "From: Alice <alice@example.org>\r\n" +
        "To: Bob <bob@example.org>\r\n" +
        "Subject: =?utf-8?q?Quarterly_report_=E2=80=94_draft?=\r\n" +
        "Message-ID: <multipart.1@example.org>\r\n" +
        "MIME-Version: 1.0\r\n" +
        "Content-Type: multipart/mixed; boundary=\"outer\"\r\n" +
        "\r\n" +
        "This is a multi-part message in MIME format.\r\n" +
        "--outer\r\n" +
        "Content-Type: multipart/alternative; boundary=\"inner\"\r\n" +
        "\r\n" +
        "--inner\r\n" +
        "Content-Type: text/plain; charset=utf-8\r\n" +
        "\r\n" +
        "Plain version.\r\n" +
        "--inner\r\n" +
        "Content-Type: text/html; charset=utf-8\r\n" +
        "\r\n" +
        "<p>HTML version.</p>\r\n" +
        "--inner--\r\n" +
        "--outer\r\n" +
        "Content-Type: application/octet-stream; name=\"data.bin\"\r\n" +
        "Content-Disposition: attachment; filename=\"data.bin\"\r\n" +
        "Content-Transfer-Encoding: base64\r\n" +
        "\r\n" +
        Convert.ToBase64String(AttachmentBytes, Base64FormattingOptions.InsertLineBreaks) + "\r\n" +
        "--outer--\r\n");

    /// <summary>8-bit: a raw UTF-8 header (RFC 6532) and an 8bit body.</summary>
    public static byte[] EightBit() => Encoding.UTF8.GetBytes(
        "From: Jürgen <juergen@example.org>\r\n" +
        "Subject: Grüße aus Köln\r\n" +
        "MIME-Version: 1.0\r\n" +
        "Content-Type: text/plain; charset=utf-8\r\n" +
        "Content-Transfer-Encoding: 8bit\r\n" +
        "\r\n" +
        "Schöne Grüße — ünïcödé, 日本語.\r\n");

    /// <summary>HTML whose single lines are far past 2,048 bytes (Python's poplib stops there).</summary>
    public static byte[] LongLines(int lineLength = 30_000) => Ascii(
        "From: newsletter@example.org\r\n" +
        "Subject: Long lines\r\n" +
        "MIME-Version: 1.0\r\n" +
        "Content-Type: text/html; charset=us-ascii\r\n" +
        "\r\n" +
        "<p>" + new string('x', lineLength) + "</p>\r\n" +
        "<p>" + new string('y', lineLength) + "</p>\r\n");

    /// <summary>Lines the server must dot-stuff: a leading dot, a lone dot, two dots.</summary>
    public static byte[] DotStuffed() => Ascii(
        "From: dots@example.org\r\n" +
        "Subject: Dots\r\n" +
        "Content-Type: text/plain\r\n" +
        "\r\n" +
        ".starts with a dot\r\n" +
        ".\r\n" +
        "..two dots\r\n" +
        "last line\r\n");

    /// <summary>
    /// Not a message MimeKit can parse (its first line is no header), and long, so that a client that
    /// stops at the error must skip the rest to keep the session in step.
    /// </summary>
    public static byte[] Malformed() => Ascii(
        "this line is not a header\r\n" +
        string.Concat(Enumerable.Range(0, 2000).Select(i => $"line {i} of a body nobody will parse\r\n")));

    /// <summary>Every sample that parses, in mailbox order.</summary>
    public static byte[][] Parseable() => [Multipart(), EightBit(), LongLines(), DotStuffed()];

    /// <summary>What MimeKit makes of the same bytes read from memory: the reference a POP3 parse must equal.</summary>
    public static MimeMessage Reference(byte[] raw) => MimeMessage.Load(new MemoryStream(raw));

    /// <summary>A message written back out: two parses of the same bytes are the same message when these are equal.</summary>
    public static byte[] Serialized(MimeMessage message)
    {
        var output = new MemoryStream();
        message.WriteTo(FormatOptions.Default, output);
        return output.ToArray();
    }

    public static void AssertSameAsReference(byte[] raw, MimeMessage parsed) =>
        Assert.Equal(Serialized(Reference(raw)), Serialized(parsed));

    private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);
}
