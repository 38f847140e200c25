using System.Text;
using System.Text.Unicode;

namespace Poplib.Fuzz;

/// <summary>
/// The harness's own reading of the server's bytes, written from RFC 1939 and independent of the
/// library's framing: lines end at LF (one CR before it dropped), a status line is one line, a
/// multi-line reply ends at a line that is only ".", and a body is dot-unstuffed line by line. The
/// scenarios step it along with the client; once the client fails in a way that leaves its place in
/// the stream unknown, the reference is <see cref="Lost"/> and checks nothing more.
/// </summary>
internal sealed class Reference(ReadOnlyMemory<byte> server)
{
    private int _position;

    /// <summary>Whether the reference no longer knows where the client is in the stream.</summary>
    public bool Lost { get; private set; }

    public void Lose() => Lost = true;

    /// <summary>A copy at the same place, to read ahead without moving this one.</summary>
    public Reference Fork() => new(server) { _position = _position, Lost = Lost };

    /// <summary>The next line without its line ending, or null (and lost) when no LF is left.</summary>
    public byte[]? Line()
    {
        if (Lost)
            return null;
        ReadOnlySpan<byte> rest = server.Span[_position..];
        int lf = rest.IndexOf((byte)'\n');
        if (lf < 0)
        {
            Lost = true;
            return null;
        }

        _position += lf + 1;
        ReadOnlySpan<byte> line = rest[..lf];
        if (!line.IsEmpty && line[^1] == (byte)'\r')
            line = line[..^1];
        return line.ToArray();
    }

    /// <summary>Whether a status line is positive: "+OK", in any case.</summary>
    public static bool IsOk(byte[]? line) =>
        line is { Length: >= 3 } && line[0] == (byte)'+' && (line[1] | 0x20) == 'o' && (line[2] | 0x20) == 'k';

    /// <summary>A status line; after "+OK", when <paramref name="multiLine"/>, the lines up to the lone ".". Returns the status line.</summary>
    public byte[]? Reply(bool multiLine, out int lines)
    {
        lines = 0;
        byte[]? status = Line();
        if (status is null || !multiLine || !IsOk(status))
            return status;
        while (Line() is { } line)
        {
            if (line is [(byte)'.'])
                return status;
            lines++;
        }

        return null;
    }

    public byte[]? Reply(bool multiLine = false) => Reply(multiLine, out _);

    /// <summary>
    /// A dot-stuffed body: the unstuffed bytes, line endings as sent, and whether its terminating line
    /// was there. An incomplete body leaves the reference lost.
    /// </summary>
    public (byte[] Content, bool Complete) Body()
    {
        var content = new MemoryStream();
        if (Lost)
            return (content.ToArray(), false);
        ReadOnlySpan<byte> all = server.Span;
        while (true)
        {
            int lf = all[_position..].IndexOf((byte)'\n');
            if (lf < 0)
            {
                Lost = true;
                return (content.ToArray(), false);
            }

            ReadOnlySpan<byte> line = all.Slice(_position, lf + 1);
            _position += lf + 1;
            if (line.SequenceEqual(".\n"u8) || line.SequenceEqual(".\r\n"u8))
                return (content.ToArray(), true);
            content.Write(line[0] == (byte)'.' ? line[1..] : line);
        }
    }

    /// <summary>
    /// What TOP with <paramref name="lines"/> body lines must return of a whole message: the header up
    /// to and including its first empty line ("" or a lone CR before the LF), then that many lines.
    /// </summary>
    public static byte[] TopOf(byte[] message, int lines)
    {
        int position = 0;
        bool inHeader = true;
        while (position < message.Length)
        {
            if (!inHeader && lines-- == 0)
                break;
            int lf = Array.IndexOf(message, (byte)'\n', position);
            int end = lf < 0 ? message.Length : lf + 1;
            if (inHeader)
            {
                int length = (lf < 0 ? message.Length : lf) - position;
                bool empty = length == 0 || (length == 1 && message[position] == (byte)'\r');
                inHeader = !empty;
            }

            position = end;
        }

        return message[..position];
    }

    /// <summary>How a status line reads as text, as the docs say the client decodes it (UTF-8 when valid, else Latin-1; UTF-8 after the UTF8 command).</summary>
    public static string Decode(byte[] line, bool utf8Mode) =>
        utf8Mode || Utf8.IsValid(line) ? Encoding.UTF8.GetString(line) : Encoding.Latin1.GetString(line);
}
