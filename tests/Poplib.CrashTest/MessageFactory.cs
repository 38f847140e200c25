using System.Security.Cryptography;
using System.Text;

namespace Poplib.CrashTest;

/// <summary>A message the harness put on the server.</summary>
/// <param name="Index">0, 1, 2 … in the order added.</param>
/// <param name="MessageId">Its Message-ID header (unique).</param>
/// <param name="Content">The bytes served (LF line endings).</param>
/// <param name="AddedBeforeRun">The run it was added before (1 = on the server from the start).</param>
internal sealed record SourceMessage(int Index, string MessageId, byte[] Content, int AddedBeforeRun)
{
    public string Hash { get; } = Convert.ToHexString(SHA256.HashData(Content));

    public string Describe() =>
        $"message {Index} {MessageId} ({Content.Length:N0} bytes, on the server from before run {AddedBeforeRun})";
}

/// <summary>
/// Generates messages deterministically from a seed: LF line endings, sizes from ~200 B to ~200 KB
/// (log-uniform) with the odd ~1 MB one, and bodies that carry what a mail retriever must get right:
/// lines starting with ".", "From ", "&gt;From ", lines longer than 2048 bytes, UTF-8 that is not ASCII.
/// </summary>
internal sealed class MessageFactory(int seed)
{
    private static readonly string[] Words =
    [
        "mail", "retriever", "maildrop", "octet", "session", "quit", "commit", "kill", "signal", "batch",
        "state", "deliver", "rename", "fsync", "journal", "server", "client", "message", "line", "body",
        "the", "a", "of", "and", "to", "in", "is", "it", "that", "was", "for", "on", "are", "with",
    ];

    private static readonly string[] Unicode =
    [
        "Grüße aus Köln", "naïve café déjà vu", "日本語のテキスト", "Привет, мир", "emoji 📬✉️🚀",
        "Ελληνικά γράμματα", "עברית", "ﬁligature and ½ fractions", "Zürich – Genève — São Paulo",
    ];

    private readonly Random _random = new(seed);
    private readonly int _seed = seed;
    private int _next;

    /// <summary>The next message, about <paramref name="targetSize"/> bytes long.</summary>
    public SourceMessage Create(int targetSize, int addedBeforeRun)
    {
        int index = _next++;
        string messageId = $"<crash-{_seed}-{index}@poplib.test>";
        var text = new StringBuilder(targetSize + 4096);
        text.Append("Return-Path: <sender").Append(index % 17).Append("@example.org>\n");
        text.Append("Message-ID: ").Append(messageId).Append('\n');
        text.Append("From: \"Sender ").Append(index % 17).Append("\" <sender").Append(index % 17).Append("@example.org>\n");
        text.Append("To: alice@example.org\n");
        text.Append("Subject: crash test ").Append(index).Append(index % 3 == 0 ? " — Grüße ✓" : "").Append('\n');
        text.Append("Date: Mon, 24 Nov 2025 10:").Append((index / 60 % 60).ToString("00")).Append(':').Append((index % 60).ToString("00")).Append(" +0000\n");
        text.Append("MIME-Version: 1.0\n");
        text.Append("Content-Type: text/plain; charset=utf-8\n");
        text.Append("Content-Transfer-Encoding: 8bit\n");
        text.Append("X-Crash-Test: seed ").Append(_seed).Append(" message ").Append(index).Append('\n');
        text.Append('\n');

        // The awkward lines first, so that even the smallest message has them.
        text.Append("From the harness: this line starts with From and a space.\n");
        text.Append(".a line with a leading dot\n");
        text.Append(">From quoted once\n");
        text.Append(Unicode[_random.Next(Unicode.Length)]).Append('\n');

        int utf8Length = Encoding.UTF8.GetByteCount(text.ToString());
        while (utf8Length < targetSize)
        {
            string line = NextLine(targetSize - utf8Length);
            text.Append(line).Append('\n');
            utf8Length += Encoding.UTF8.GetByteCount(line) + 1;
        }

        // A few end with an empty line: the mbox writer's separator must not swallow it.
        if (_random.Next(20) == 0)
            text.Append('\n');

        return new SourceMessage(index, messageId, Encoding.UTF8.GetBytes(text.ToString()), addedBeforeRun);
    }

    /// <summary>A size from ~200 B to ~200 KB, log-uniform; one in <paramref name="oneInForLarge"/> is ~1 MB.</summary>
    public int NextSize(int oneInForLarge)
    {
        if (oneInForLarge > 0 && _random.Next(oneInForLarge) == 0)
            return 1_000_000 + _random.Next(100_000);
        return (int)Math.Exp(Math.Log(200) + (_random.NextDouble() * (Math.Log(200_000) - Math.Log(200))));
    }

    private string NextLine(int room)
    {
        int kind = _random.Next(100);
        return kind switch
        {
            < 4 => ".",
            < 6 => "..",
            < 10 => "." + Sentence(),
            < 14 => "From " + Sentence(),
            < 17 => ">From " + Sentence(),
            < 19 => ">>From " + Sentence(),
            < 21 => "From" + Sentence(),          // no space: not a separator, not quoted
            < 24 => "",
            < 30 => Unicode[_random.Next(Unicode.Length)] + " " + Sentence(),
            < 33 when room > 2100 => LongLine(Math.Min(room, 2049 + _random.Next(30_000))),
            _ => Sentence(),
        };
    }

    private string Sentence()
    {
        var line = new StringBuilder();
        int words = 3 + _random.Next(14);
        for (int i = 0; i < words; i++)
        {
            if (i > 0)
                line.Append(' ');
            line.Append(Words[_random.Next(Words.Length)]);
        }

        return line.ToString();
    }

    private string LongLine(int length)
    {
        var line = new StringBuilder(length + 32);
        while (line.Length < length)
            line.Append(Words[_random.Next(Words.Length)]).Append(_random.Next(8) == 0 ? "ü" : "-");
        return line.ToString();
    }
}
