using System.Globalization;
using System.Text;
using System.Text.Unicode;

namespace Poplib.Commands;

/// <summary>Turns a status line into a <see cref="Pop3Response"/>. Pure: no I/O, no state.</summary>
internal static class ReplyParser
{
    private static readonly Encoding Latin1 = Encoding.Latin1;

    /// <summary>
    /// Decodes reply text. In UTF-8 mode (after the UTF8 command) as UTF-8; before it, as UTF-8 when
    /// the bytes are valid UTF-8 and as Latin-1 otherwise, so 8-bit junk from an old server never throws.
    /// </summary>
    public static string Decode(ReadOnlySpan<byte> bytes, bool utf8Mode) =>
        utf8Mode || Utf8.IsValid(bytes) ? Encoding.UTF8.GetString(bytes) : Latin1.GetString(bytes);

    /// <summary>Parses <c>+OK …</c> or <c>-ERR …</c>; returns null for anything else (the caller decides how bad that is).</summary>
    public static Pop3Response? TryParseStatus(ReadOnlySpan<byte> line, bool utf8Mode)
    {
        bool isOk;
        int indicatorLength;
        if (StartsWithIgnoreCase(line, "+OK"u8))
        {
            isOk = true;
            indicatorLength = 3;
        }
        else if (StartsWithIgnoreCase(line, "-ERR"u8))
        {
            isOk = false;
            indicatorLength = 4;
        }
        else
        {
            return null;
        }

        string whole = Decode(line, utf8Mode);
        string text = whole.AsSpan(indicatorLength).TrimStart(' ').ToString(); // one string, not a substring and then a trimmed copy
        (Pop3ResponseCode code, string? codeText) = ParseCode(text);
        return new Pop3Response(isOk, whole, text, code, codeText);
    }

    /// <summary>
    /// The size a RETR reply announces, as RFC 1939 suggests (<c>+OK 120 octets</c>): the first word of
    /// the text when it is a number. Only a hint: nothing obliges a server to send it, or to be right.
    /// </summary>
    public static bool TryParseAnnouncedSize(string text, out long octets)
    {
        octets = 0;
        int space = text.IndexOf(' ', StringComparison.Ordinal);
        ReadOnlySpan<char> word = space < 0 ? text : text.AsSpan(0, space);
        return word.Length is > 0 and <= 18 && char.IsAsciiDigit(word[0])
            && long.TryParse(word, NumberStyles.None, CultureInfo.InvariantCulture, out octets);
    }

    /// <summary>
    /// Parses a SASL continuation (RFC 5034): <c>+</c>, a space and base64 text (possibly empty).
    /// Returns the base64 text, or null when the line is not a continuation.
    /// </summary>
    public static string? TryParseChallenge(ReadOnlySpan<byte> line)
    {
        if (line.Length == 0 || line[0] != (byte)'+')
            return null;
        if (line.Length == 1)
            return "";
        if (line[1] != (byte)' ')
            return null;
        ReadOnlySpan<byte> text = line[2..].Trim((byte)' ');
        foreach (byte b in text)
        {
            if (!(char.IsAsciiLetterOrDigit((char)b) || b is (byte)'+' or (byte)'/' or (byte)'='))
                return null;
        }

        return Encoding.ASCII.GetString(text);
    }

    /// <summary>Reads an RFC 2449 <c>[CODE]</c> at the start of the text.</summary>
    internal static (Pop3ResponseCode Code, string? CodeText) ParseCode(string text)
    {
        if (text.Length < 3 || text[0] != '[')
            return (Pop3ResponseCode.None, null);
        int close = text.IndexOf(']', StringComparison.Ordinal);
        if (close < 2)
            return (Pop3ResponseCode.None, null);

        string codeText = text[1..close];
        Pop3ResponseCode code = codeText.ToUpperInvariant() switch
        {
            "IN-USE" => Pop3ResponseCode.InUse,
            "LOGIN-DELAY" => Pop3ResponseCode.LoginDelay,
            "SYS/TEMP" => Pop3ResponseCode.SysTemp,
            "SYS/PERM" => Pop3ResponseCode.SysPerm,
            "AUTH" => Pop3ResponseCode.Auth,
            "UTF8" => Pop3ResponseCode.Utf8,
            // Codes are hierarchical (RFC 2449 section 8): an unknown sub-code keeps its known root.
            var c when c.StartsWith("SYS/TEMP/", StringComparison.Ordinal) => Pop3ResponseCode.SysTemp,
            var c when c.StartsWith("SYS/PERM/", StringComparison.Ordinal) => Pop3ResponseCode.SysPerm,
            var c when c.StartsWith("AUTH/", StringComparison.Ordinal) => Pop3ResponseCode.Auth,
            _ => Pop3ResponseCode.Other,
        };
        return (code, codeText);
    }

    private static bool StartsWithIgnoreCase(ReadOnlySpan<byte> line, ReadOnlySpan<byte> upperPrefix)
    {
        if (line.Length < upperPrefix.Length)
            return false;
        for (int i = 0; i < upperPrefix.Length; i++)
        {
            byte b = line[i];
            if (b is >= (byte)'a' and <= (byte)'z')
                b -= 32;
            if (b != upperPrefix[i])
                return false;
        }

        return true;
    }
}
