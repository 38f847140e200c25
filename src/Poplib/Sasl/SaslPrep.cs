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
            if (IsProhibited(c))
                throw new ArgumentException("The credentials contain a character SASLprep prohibits (a control or private-use character).");
        }

        return normalized;
    }

    // RFC 3454 tables C.2 (controls, including U+2028/2029), C.3 and C.4 (private use, non-characters),
    // C.5 (lone surrogates; pairs are checked by the normaliser) and C.8 (bidi and format controls).
    private static bool IsProhibited(char c) =>
        char.IsControl(c)
        || c is '\u2028' or '\u2029' or '\u200E' or '\u200F' or '\u061C' or '\uFFFD'
        || c is >= '\u202A' and <= '\u202E'
        || c is >= '\u206A' and <= '\u206F'
        || c is >= '\uFDD0' and <= '\uFDEF' or '\uFFFE' or '\uFFFF'
        || CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.PrivateUse;

    // RFC 3454 table B.1.
    private static bool IsMappedToNothing(char c) =>
        c is '\u00AD' or '\u034F' or '\u1806' or '\u180B' or '\u180C' or '\u180D' or '\u200B' or '\u200C' or '\u200D' or '\u2060' or '\uFEFF'
        || c is >= '\uFE00' and <= '\uFE0F';

    // RFC 3454 table C.1.2.
    private static bool IsNonAsciiSpace(char c) =>
        c is '\u00A0' or '\u1680' or '\u202F' or '\u205F' or '\u3000' || c is >= '\u2000' and <= '\u200B';
}
