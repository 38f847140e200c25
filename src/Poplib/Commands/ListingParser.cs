using System.Buffers.Text;

namespace Poplib.Commands;

/// <summary>
/// Parses the fields of LIST, UIDL and STAT replies: tolerant of runs of spaces or tabs and of
/// trailing extra fields, strict about the numbers themselves. Pure: no I/O, no state.
/// </summary>
internal static class ListingParser
{
    /// <summary>Parses <c>number size …</c> (a LIST line, a <c>LIST n</c> reply or a STAT reply).</summary>
    public static bool TryParseNumberAndSize(ReadOnlySpan<byte> text, out long number, out long size)
    {
        size = 0;
        return TryReadCount(ref text, out number) && TryReadCount(ref text, out size);
    }

    /// <summary>Parses <c>number unique-id …</c> (a UIDL line or a <c>UIDL n</c> reply).</summary>
    public static bool TryParseNumberAndUid(ReadOnlySpan<byte> text, out long number, out ReadOnlySpan<byte> uid)
    {
        uid = default;
        if (!TryReadCount(ref text, out number))
            return false;
        uid = NextToken(ref text);
        if (uid.IsEmpty)
            return false;
        foreach (byte b in uid)
        {
            if (b < 0x21 || b == 0x7F)
                return false;
        }

        return true;
    }

    /// <summary>Reads a non-negative decimal number (digits only, no sign) as the next field.</summary>
    private static bool TryReadCount(scoped ref ReadOnlySpan<byte> text, out long value)
    {
        value = 0;
        ReadOnlySpan<byte> token = NextToken(ref text);
        if (token.IsEmpty || token.Length > 18 || !char.IsAsciiDigit((char)token[0]))
            return false;
        return Utf8Parser.TryParse(token, out value, out int consumed) && consumed == token.Length;
    }

    private static ReadOnlySpan<byte> NextToken(scoped ref ReadOnlySpan<byte> text)
    {
        text = text.TrimStart(" \t"u8);
        int end = text.IndexOfAny(" \t"u8);
        ReadOnlySpan<byte> token = end < 0 ? text : text[..end];
        text = end < 0 ? default : text[end..];
        return token;
    }
}
