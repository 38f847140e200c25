using System.Text;

namespace Poplib.Benchmarks;

/// <summary>
/// The in-memory server output each benchmark reads: byte-for-byte what a POP3 server sends, built once,
/// deterministically (a fixed seed), so that every run and the smoke check see the same bytes.
/// </summary>
internal static class Workloads
{
    public const int StatusLineCount = 10_000;
    public const int ListEntryCount = 100_000;
    public const int SmallMessageCount = 1_000;
    public const int SmallMessageSize = 4 * 1024;
    public const int LargeMessageSize = 5 * 1024 * 1024;
    public const int LargeLineLength = 50_000;
    public const int StuffedSize = 1024 * 1024;

    /// <summary>10,000 status lines as Dovecot writes them for RETR.</summary>
    public static readonly byte[] StatusLines = Repeat("+OK 4096 octets\r\n", StatusLineCount);

    /// <summary>A LIST reply: +OK, 100,000 "n size" lines, the terminator.</summary>
    public static readonly byte[] ListListing = BuildListing();

    /// <summary>1,000 RETR replies of 4 KiB messages (78-byte lines, some starting with a stuffed dot).</summary>
    public static readonly Body SmallMessages = BuildMessages(SmallMessageCount, SmallMessageSize, lineLength: 78, stuffEvery: 10);

    /// <summary>One RETR reply of a 5 MiB message with 50 KB lines.</summary>
    public static readonly Body LargeMessage = BuildMessages(1, LargeMessageSize, LargeLineLength, stuffEvery: 0);

    /// <summary>One RETR reply of a 1 MiB message in which every 78-byte line starts with a stuffed dot (the worst case).</summary>
    public static readonly Body DotStuffed = BuildMessages(1, StuffedSize, lineLength: 78, stuffEvery: 1);

    /// <summary>Wire bytes (what a server sends) and content bytes (what a caller gets after unstuffing).</summary>
    public sealed record Body(byte[] Wire, int Messages, long ContentBytes);

    private static byte[] Repeat(string line, int count) => Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(line, count)));

    private static byte[] BuildListing()
    {
        var text = new StringBuilder("+OK 100000 messages (409600000 octets)\r\n");
        for (int i = 1; i <= ListEntryCount; i++)
            text.Append(i).Append(' ').Append(4096 + (i % 997)).Append("\r\n");
        text.Append(".\r\n");
        return Encoding.ASCII.GetBytes(text.ToString());
    }

    private static Body BuildMessages(int count, int size, int lineLength, int stuffEvery)
    {
        var random = new Random(6);
        var wire = new MemoryStream();
        long content = 0;
        for (int m = 0; m < count; m++)
        {
            byte[] message = Message(random, size, lineLength, stuffEvery);
            content += message.Length;
            wire.Write(Encoding.ASCII.GetBytes($"+OK {message.Length} octets\r\n"));
            int lineStart = 0;
            for (int i = 0; i <= message.Length; i++)
            {
                if (i < message.Length && message[i] != (byte)'\n')
                    continue;
                if (i < message.Length && message[lineStart] == (byte)'.')
                    wire.WriteByte((byte)'.');
                wire.Write(message, lineStart, Math.Min(i + 1, message.Length) - lineStart);
                lineStart = i + 1;
            }

            wire.Write(".\r\n"u8);
        }

        return new Body(wire.ToArray(), count, content);
    }

    /// <summary>A message of exactly <paramref name="size"/> bytes of CRLF lines (the last one shortened to fit).</summary>
    private static byte[] Message(Random random, int size, int lineLength, int stuffEvery)
    {
        var message = new byte[size];
        int position = 0;
        int line = 0;
        while (position < size)
        {
            int length = Math.Min(lineLength, size - position - 2);
            if (length < 1)
            {
                // Pad the tail with a short line so the message still ends in CRLF.
                length = Math.Max(0, size - position - 2);
            }

            for (int i = 0; i < length; i++)
                message[position + i] = (byte)('a' + random.Next(26));
            if (stuffEvery > 0 && line % stuffEvery == 0 && length > 0)
                message[position] = (byte)'.';
            position += length;
            if (position + 2 <= size)
            {
                message[position++] = (byte)'\r';
                message[position++] = (byte)'\n';
            }
            else
            {
                while (position < size)
                    message[position++] = (byte)'\n';
            }

            line++;
        }

        return message;
    }
}
