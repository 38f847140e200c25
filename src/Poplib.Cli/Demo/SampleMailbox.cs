using System.Globalization;
using System.Text;

namespace Poplib.Cli.Demo;

/// <summary>
/// Writes a mailbox of realistic messages: plain text, multipart with a base64 attachment, UTF-8
/// subjects, HTML with very long lines, and lines that begin with '.' (which POP3 must dot-stuff).
/// Stored with LF line endings, as Maildirs hold mail: the server sends CRLF, fetch stores LF again,
/// so a delivered message can be compared byte for byte with its original.
/// </summary>
internal static class SampleMailbox
{
    private static readonly string[] Senders = ["Ada Lovelace <ada@example.org>", "Grace Hopper <grace@example.net>", "Jörg Müller <joerg@example.de>", "李小龙 <li@example.cn>"];
    private static readonly string[] Subjects = ["Quarterly report", "Re: lunch?", "Grüße aus München", "会议记录", "Invoice #{0}", "Build {0} passed"];

    public static void Write(string directory, int count, int seed = 1939)
    {
        Directory.CreateDirectory(directory);
        var random = new Random(seed);
        for (int i = 1; i <= count; i++)
        {
            string message = (i % 4) switch
            {
                0 => Multipart(i, random),
                1 => Html(i, random),
                2 => DotLines(i),
                _ => Plain(i, random),
            };
            File.WriteAllBytes(Path.Combine(directory, $"{i:D6}.eml"), Encoding.UTF8.GetBytes(message.Replace("\r\n", "\n", StringComparison.Ordinal)));
        }
    }

    private static string Header(int i, string contentType)
    {
        string subject = string.Format(CultureInfo.InvariantCulture, Subjects[i % Subjects.Length], i);
        string encodedSubject = subject.All(char.IsAscii) ? subject : $"=?UTF-8?B?{Convert.ToBase64String(Encoding.UTF8.GetBytes(subject))}?=";
        return $"From: {Senders[i % Senders.Length]}\r\n" +
               "To: demo@example.org\r\n" +
               $"Subject: {encodedSubject}\r\n" +
               $"Message-ID: <demo-{i}@poplib.example>\r\n" +
               $"Date: {new DateTimeOffset(2026, 11, 23, 8, 0, 0, TimeSpan.Zero).AddMinutes(i):ddd, dd MMM yyyy HH:mm:ss} +0000\r\n" +
               "MIME-Version: 1.0\r\n" +
               $"Content-Type: {contentType}\r\n";
    }

    private static string Plain(int i, Random random)
    {
        var body = new StringBuilder();
        int lines = random.Next(5, 60);
        for (int n = 0; n < lines; n++)
            body.Append(CultureInfo.InvariantCulture, $"Line {n} of message {i}: the quick brown fox jumps over the lazy dog.\r\n");
        return Header(i, "text/plain; charset=utf-8") + "\r\n" + body;
    }

    private static string Html(int i, Random random)
    {
        // One paragraph per line, as HTML mailers write it: lines of tens of kilobytes.
        var line = new StringBuilder("<html><body>");
        int cells = random.Next(500, 3000);
        for (int n = 0; n < cells; n++)
            line.Append(CultureInfo.InvariantCulture, $"<td class=\"c{n % 7}\">{n}</td>");
        line.Append("</body></html>");
        return Header(i, "text/html; charset=utf-8") + "\r\n" + line + "\r\n";
    }

    private static string DotLines(int i) =>
        Header(i, "text/plain; charset=utf-8") + "\r\n" +
        "Lines that start with a dot must survive POP3's dot-stuffing:\r\n" +
        ".\r\n" +
        "..\r\n" +
        ".hidden file\r\n" +
        "and a last line.\r\n";

    private static string Multipart(int i, Random random)
    {
        byte[] attachment = new byte[random.Next(2_000, 200_000)];
        random.NextBytes(attachment);
        string base64 = Convert.ToBase64String(attachment, Base64FormattingOptions.InsertLineBreaks);
        const string Boundary = "=_poplib_demo_boundary";
        return Header(i, $"multipart/mixed; boundary=\"{Boundary}\"") + "\r\n" +
               $"--{Boundary}\r\n" +
               "Content-Type: text/plain; charset=utf-8\r\n\r\n" +
               "Please find the data attached.\r\n" +
               $"--{Boundary}\r\n" +
               $"Content-Type: application/octet-stream; name=\"data-{i}.bin\"\r\n" +
               "Content-Transfer-Encoding: base64\r\n\r\n" +
               base64 + "\r\n" +
               $"--{Boundary}--\r\n";
    }
}
