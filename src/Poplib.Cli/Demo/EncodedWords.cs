using System.Text;
using System.Text.RegularExpressions;

namespace Poplib.Cli.Demo;

/// <summary>Decodes RFC 2047 encoded-words (<c>=?UTF-8?B?…?=</c>, <c>=?…?Q?…?=</c>) in a header, for display.</summary>
internal static partial class EncodedWords
{
    [GeneratedRegex(@"=\?([^?]+)\?([BbQq])\?([^?]*)\?=")]
    private static partial Regex Word();

    public static string Decode(string header) => Word().Replace(header, match =>
    {
        try
        {
            Encoding charset = Encoding.GetEncoding(match.Groups[1].Value);
            string text = match.Groups[3].Value;
            byte[] bytes = match.Groups[2].Value is "B" or "b" ? Convert.FromBase64String(text) : QuotedPrintable(text);
            return charset.GetString(bytes);
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            return match.Value; // shown as sent rather than guessed
        }
    });

    private static byte[] QuotedPrintable(string text)
    {
        var bytes = new List<byte>(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '_')
                bytes.Add((byte)' ');
            else if (text[i] == '=' && i + 2 < text.Length)
            {
                bytes.Add(Convert.ToByte(text.Substring(i + 1, 2), 16));
                i += 2;
            }
            else
                bytes.Add((byte)text[i]);
        }

        return [.. bytes];
    }
}
