namespace Poplib.Framing;

/// <summary>
/// Finds where a TOP reply should end (RFC 1939): the header, up to and including its first empty
/// line, then at most the number of body lines asked for. It looks at the body as the caller gets it
/// (dot-unstuffed), a piece at a time, however the pieces are cut; CRLF and bare LF end lines alike,
/// and a line that is only a CR is not empty. A message without an empty line is all header.
/// </summary>
internal struct TopLineCounter(long bodyLines)
{
    private long _bodyLinesLeft = bodyLines;
    private bool _inHeader = true;

    // What the current header line holds so far: nothing, a lone CR, or more.
    private LineSoFar _line;

    private enum LineSoFar : byte
    {
        Empty,
        CarriageReturn,
        Text,
    }

    /// <summary>
    /// How many of <paramref name="bytes"/> to keep: all of them, or up to and including the line end
    /// that completes the lines asked for, in which case <paramref name="complete"/> is set.
    /// </summary>
    public int Keep(ReadOnlySpan<byte> bytes, out bool complete)
    {
        int kept = 0;
        while (_inHeader)
        {
            int lf = bytes[kept..].IndexOf((byte)'\n');
            ReadOnlySpan<byte> part = lf < 0 ? bytes[kept..] : bytes.Slice(kept, lf);
            if (!part.IsEmpty)
                _line = _line == LineSoFar.Empty && part is [(byte)'\r'] ? LineSoFar.CarriageReturn : LineSoFar.Text;
            if (lf < 0)
            {
                complete = false;
                return bytes.Length;
            }

            kept += lf + 1;
            _inHeader = _line == LineSoFar.Text;
            _line = LineSoFar.Empty;
        }

        // In the body only line ends matter: one vectorised count, unless the last line asked for is here.
        int lineEnds = bytes[kept..].Count((byte)'\n');
        if (lineEnds < _bodyLinesLeft)
        {
            _bodyLinesLeft -= lineEnds;
            complete = false;
            return bytes.Length;
        }

        for (; _bodyLinesLeft > 0; _bodyLinesLeft--)
            kept += bytes[kept..].IndexOf((byte)'\n') + 1;
        complete = true;
        return kept;
    }
}
