using System.Globalization;
using System.Text;

namespace Poplib.Cli.Output;

/// <summary>
/// The one sanitiser for text that came from a server (replies, capabilities, UIDLs, and the
/// messages built from them) before the CLI prints it: a terminal obeys escape sequences, so a
/// server could otherwise move the cursor, rewrite what was printed, set the window title (OSC), or
/// reverse text with bidi controls. Control characters (C0, DEL, C1), line and paragraph separators
/// and invisible format characters are written as <c>\xHH</c> or <c>\uHHHH</c>; everything else is
/// kept, so ordinary non-ASCII text stays readable.
/// </summary>
internal static class TerminalText
{
    public static string Safe(string text)
    {
        int first = IndexOfUnsafe(text);
        if (first < 0)
            return text;
        var safe = new StringBuilder(text.Length + 16).Append(text, 0, first);
        foreach (char c in text.AsSpan(first))
        {
            if (!IsUnsafe(c))
                safe.Append(c);
            else if (c < 0x100)
                safe.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}");
            else
                safe.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
        }

        return safe.ToString();
    }

    private static int IndexOfUnsafe(string text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            if (IsUnsafe(text[i]))
                return i;
        }

        return -1;
    }

    private static bool IsUnsafe(char c) =>
        c < 0x20 || c is >= '\u007f' and <= '\u009f'
        || CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;
}
