using System.Buffers;
using System.Buffers.Text;
using System.Text;

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

    /// <summary>
    /// Parses <c>number unique-id …</c> (a UIDL line or a <c>UIDL n</c> reply). The unique-id is any
    /// run of bytes up to a space or tab; whether its characters are allowed is
    /// <see cref="FindInvalidUidCharacter"/>'s business, so that the error can say which one is not.
    /// </summary>
    public static bool TryParseNumberAndUid(ReadOnlySpan<byte> text, out long number, out ReadOnlySpan<byte> uid)
    {
        uid = default;
        if (!TryReadCount(ref text, out number))
            return false;
        uid = NextToken(ref text);
        return !uid.IsEmpty;
    }

    /// <summary>
    /// Names the first character of a unique-id outside 0x21–0x7E (<c>0x9B</c>, <c>U+65E5</c>), or
    /// returns null. RFC 1939 section 7 allows only those, and RFC 6856 keeps them so in UTF-8 mode;
    /// anything else is a broken server, or one that aims control characters (a C1 CSI is the one
    /// byte 0x9B) at whoever prints the id.
    /// </summary>
    public static string? FindInvalidUidCharacter(string uid)
    {
        for (int i = 0; i < uid.Length; i++)
        {
            if (uid[i] is >= '\u0021' and <= '\u007E')
                continue;
            int value = Rune.DecodeFromUtf16(uid.AsSpan(i), out Rune rune, out _) == OperationStatus.Done ? rune.Value : uid[i];
            return value <= 0xFF ? $"0x{value:X2}" : $"U+{value:X4}";
        }

        return null;
    }

    /// <summary>
    /// Why the unique-id of message <paramref name="number"/> is not allowed (a character outside
    /// 0x21–0x7E, named as decoded), or null. The common case, printable ASCII, is one vectorised scan.
    /// </summary>
    public static string? CheckUid(ReadOnlySpan<byte> uid, bool utf8Mode, long number) =>
        uid.IndexOfAnyExceptInRange((byte)0x21, (byte)0x7E) < 0 || FindInvalidUidCharacter(ReplyParser.Decode(uid, utf8Mode)) is not { } character
            ? null
            : $"the unique-id of message {number} holds {character}, outside the 0x21–0x7E that RFC 1939 allows";

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
