using System.Runtime.CompilerServices;

namespace Poplib.Testing.Mailboxes;

/// <summary>Where one message of an mbox file lies.</summary>
/// <param name="RawStart">Offset of its <c>From </c> line.</param>
/// <param name="RawEnd">Offset of the next <c>From </c> line (or the end of the file).</param>
/// <param name="ContentStart">Offset of its first line after the <c>From </c> line.</param>
/// <param name="ContentEnd">End of its content: before the blank separator line, if any.</param>
/// <param name="QuoteOffsets">Offsets of the <c>&gt;</c> to drop from <c>&gt;+From </c> lines (mboxrd unquoting).</param>
/// <param name="FileLength">The file's length when it was parsed.</param>
internal sealed record MboxEntry(long RawStart, long RawEnd, long ContentStart, long ContentEnd, long[] QuoteOffsets, long FileLength);

/// <summary>Finds the messages of an mbox file in one streaming pass; only line beginnings are looked at.</summary>
internal static class MboxParser
{
    // Enough of a line to recognise ">>>From " and blank lines; the rest of a line is only counted.
    private const int PrefixLength = 64;

    public static async ValueTask<List<MboxEntry>> ParseAsync(string path, CancellationToken cancellationToken)
    {
        var entries = new List<MboxEntry>();
        if (!File.Exists(path))
            return entries;

        FileStream file = MaildirMailbox.OpenFile(path);
        await using ConfiguredAsyncDisposable closeFile = file.ConfigureAwait(false);
        long fileLength = file.Length;
        var state = new State(fileLength);
        byte[] buffer = new byte[64 * 1024];
        byte[] prefix = new byte[PrefixLength];
        int prefixLength = 0;
        long offset = 0;
        long lineStart = 0;
        int read;
        while (offset < fileLength && (read = await file.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            for (int i = 0; i < read; i++)
            {
                if (prefixLength < PrefixLength)
                    prefix[prefixLength++] = buffer[i];
                if (buffer[i] == (byte)'\n')
                {
                    state.OnLine(lineStart, offset + i + 1, prefix.AsSpan(0, prefixLength), entries);
                    lineStart = offset + i + 1;
                    prefixLength = 0;
                }
            }

            offset += read;
        }

        if (lineStart < offset)
            state.OnLine(lineStart, offset, prefix.AsSpan(0, prefixLength), entries);
        state.Close(offset, entries);
        return entries;
    }

    private static bool IsQuotedFrom(ReadOnlySpan<byte> line)
    {
        int quotes = line.IndexOfAnyExcept((byte)'>');
        return quotes > 0 && line[quotes..].StartsWith("From "u8);
    }

    private static bool IsBlank(ReadOnlySpan<byte> line) => line.SequenceEqual("\n"u8) || line.SequenceEqual("\r\n"u8);

    private sealed class State(long fileLength)
    {
        private long _rawStart = -1;
        private long _contentStart;
        private long _lastBlankLine = -1;
        private List<long> _quotes = [];

        public void OnLine(long start, long end, ReadOnlySpan<byte> prefix, List<MboxEntry> entries)
        {
            if (prefix.StartsWith("From "u8))
            {
                Close(start, entries);
                _rawStart = start;
                _contentStart = end;
                _quotes = [];
                _lastBlankLine = -1;
                return;
            }

            if (_rawStart < 0)
                return; // text before the first "From " line belongs to no message
            if (IsQuotedFrom(prefix))
                _quotes.Add(start);
            _lastBlankLine = IsBlank(prefix) ? start : -1;
        }

        public void Close(long nextRawStart, List<MboxEntry> entries)
        {
            if (_rawStart < 0)
                return;
            long contentEnd = _lastBlankLine >= 0 ? _lastBlankLine : nextRawStart;
            entries.Add(new MboxEntry(_rawStart, nextRawStart, _contentStart, Math.Max(contentEnd, _contentStart), [.. _quotes], fileLength));
            _rawStart = -1;
        }
    }
}
