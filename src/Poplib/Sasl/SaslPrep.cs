using System.Globalization;
using System.Text;

namespace Poplib.Sasl;

/// <summary>
/// SASLprep (RFC 4013) as SCRAM needs it for user names and passwords: non-ASCII spaces become a
/// space, characters "commonly mapped to nothing" are dropped, the result is NFKC-normalised, and
/// control or private-use characters are refused. Pure ASCII without controls passes unchanged.
/// </summary>
internal static class SaslPrep
{
    public static string Prepare(string value)
    {
        if (value.All(static c => c is >= ' ' and <= '~'))
            return value;

        var mapped = new StringBuilder(value.Length);
        foreach (char c in value)
        {
            if (IsMappedToNothing(c))
                continue;
            mapped.Append(IsNonAsciiSpace(c) ? ' ' : c);
        }

        string normalized = mapped.ToString().Normalize(NormalizationForm.FormKC);
        foreach (char c in normalized)
        {
            if (char.IsControl(c) || CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.PrivateUse || c == '\uFFFD')
                throw new ArgumentException("The credentials contain a character SASLprep prohibits (a control or private-use character).");
        }

        return normalized;
    }

    // RFC 3454 table B.1.
    private static bool IsMappedToNothing(char c) =>
        c is '\u00AD' or '\u034F' or '\u1806' or '\u180B' or '\u180C' or '\u180D' or '\u200B' or '\u200C' or '\u200D' or '\u2060' or '\uFEFF'
        || c is >= '\uFE00' and <= '\uFE0F';

    // RFC 3454 table C.1.2.
    private static bool IsNonAsciiSpace(char c) =>
        c is '\u00A0' or '\u1680' or '\u202F' or '\u205F' or '\u3000' || c is >= '\u2000' and <= '\u200B';
}
