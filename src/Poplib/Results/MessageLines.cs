using System.Collections;

namespace Poplib;

/// <summary>
/// The lines of an in-memory message (<see cref="Pop3Message.Lines"/>), found in its content when
/// asked for rather than stored: a 60 MB message of bare line feeds would otherwise make 60 million
/// entries. Counting is one vectorised pass; enumerating streams over the content; the indexer
/// resumes from the line it found last, so reading the lines in order (or backwards) costs O(1)
/// each, in O(1) memory.
/// </summary>
internal sealed class MessageLines(ReadOnlyMemory<byte> content) : IReadOnlyList<ReadOnlyMemory<byte>>
{
    private int _count = -1;

    // The line found last and where it starts, in one long so that readers on several threads always
    // see a matching pair: (index << 32) | start.
    private long _cursor;

    public int Count
    {
        get
        {
            if (_count < 0)
            {
                ReadOnlySpan<byte> span = content.Span;
                _count = span.Count((byte)'\n') + (span.Length > 0 && span[^1] != (byte)'\n' ? 1 : 0);
            }

            return _count;
        }
    }

    public ReadOnlyMemory<byte> this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count, nameof(index));
            long cursor = Volatile.Read(ref _cursor);
            int at = (int)(cursor >> 32);
            int start = (int)cursor;
            if (index < at && index < at - index)
                (at, start) = (0, 0);

            ReadOnlySpan<byte> span = content.Span;
            for (; at < index; at++)
                start += span[start..].IndexOf((byte)'\n') + 1;
            // The line before ends just before this one's start; it starts after the LF before that.
            for (; at > index; at--)
                start = span[..(start - 1)].LastIndexOf((byte)'\n') + 1;

            Volatile.Write(ref _cursor, ((long)at << 32) | (uint)start);
            return Line(start, out _);
        }
    }

    public IEnumerator<ReadOnlyMemory<byte>> GetEnumerator()
    {
        for (int start = 0; start < content.Length; )
            yield return Line(start, out start);
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    // The line at `start` without its CRLF or LF (a last line without one is kept whole), and where the next begins.
    private ReadOnlyMemory<byte> Line(int start, out int next)
    {
        int lf = content.Span[start..].IndexOf((byte)'\n');
        if (lf < 0)
        {
            next = content.Length;
            return content[start..];
        }

        next = start + lf + 1;
        int end = start + lf;
        return content[start..(end > start && content.Span[end - 1] == (byte)'\r' ? end - 1 : end)];
    }
}
