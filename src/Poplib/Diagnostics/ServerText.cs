using System.Buffers;
using System.Globalization;
using System.Text;

namespace Poplib.Diagnostics;

/// <summary>
/// Makes the server's text safe to show. Exception messages, the debug transcript and log lines
/// that quote the server all go through here, because whoever runs (or impersonates) the server
/// chooses that text, and a CLI prints it to a terminal: an ESC, OSC, CSI or BEL could retitle,
/// clear or reprogram the terminal, a bidi override or an invisible character could make the text
/// read differently from what it is. Controls (C0, DEL, C1), Unicode format characters (bidi
/// controls, zero-width characters, the BOM, tags), line and paragraph separators and lone
/// surrogates become <c>\xNN</c>, <c>\uNNNN</c> or <c>\UNNNNNNNN</c>; bytes that are not UTF-8
/// become <c>\xNN</c>. Everything else, non-ASCII letters included, stays as it is. Backslashes are
/// not doubled: the result is for reading, not for parsing back (the raw text is in
/// <see cref="Pop3Response"/>).
/// </summary>
internal static class ServerText
{
    /// <summary>The longest part of a raw line quoted in a protocol error, in octets.</summary>
    public const int QuotedLineLength = 80;

    /// <summary>Escapes decoded text (a reply's text, a capability, a mechanism's message).</summary>
    public static string Escape(string text)
    {
        int first = 0;
        while (first < text.Length && text[first] is >= ' ' and < '\u007F')
            first++;
        if (first == text.Length)
            return text;

        var builder = new StringBuilder(text.Length + 16).Append(text, 0, first);
        for (int i = first; i < text.Length;)
        {
            if (Rune.DecodeFromUtf16(text.AsSpan(i), out Rune rune, out int used) != OperationStatus.Done)
            {
                AppendEscape(builder, text[i]); // a lone surrogate
                i++;
                continue;
            }

            if (IsUnsafe(rune))
                AppendEscape(builder, rune.Value);
            else
                builder.Append(text, i, used);
            i += used;
        }

        return builder.ToString();
    }

    /// <summary>
    /// Escapes raw bytes from the wire (a malformed reply), decoded as UTF-8, showing at most
    /// <paramref name="maxLength"/> of them and an ellipsis when there are more.
    /// </summary>
    public static string Escape(ReadOnlySpan<byte> bytes, int maxLength = QuotedLineLength)
    {
        var builder = new StringBuilder(Math.Min(bytes.Length, maxLength) + 8);
        int i = 0;
        while (i < bytes.Length && i < maxLength)
        {
            if (Rune.DecodeFromUtf8(bytes[i..], out Rune rune, out int used) != OperationStatus.Done)
            {
                for (int end = i + used; i < end; i++)
                    AppendEscape(builder, bytes[i]);
                continue;
            }

            if (IsUnsafe(rune))
                AppendEscape(builder, rune.Value);
            else
                builder.Append(rune.ToString());
            i += used;
        }

        return i < bytes.Length ? builder.Append('…').ToString() : builder.ToString();
    }

    private static bool IsUnsafe(Rune rune) =>
        Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format
            or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.Surrogate;

    private static void AppendEscape(StringBuilder builder, int value)
    {
        if (value < 0x100)
            builder.Append(CultureInfo.InvariantCulture, $"\\x{value:X2}");
        else if (value < 0x10000)
            builder.Append(CultureInfo.InvariantCulture, $"\\u{value:X4}");
        else
            builder.Append(CultureInfo.InvariantCulture, $"\\U{value:X8}");
    }
}
