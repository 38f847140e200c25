using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Poplib.Commands;

/// <summary>The APOP digest of RFC 1939 section 7 and the greeting timestamp it is computed from.</summary>
internal static class ApopDigest
{
    // RFC 5322 atext: what a msg-id's halves are made of (with dots between).
    private static readonly SearchValues<char> AText = SearchValues.Create(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-/=?^_`{|}~.");

    // RFC 5322 dtext (printable ASCII but "[", "]" and "\"): the inside of a domain literal.
    private static readonly SearchValues<char> DText = SearchValues.Create(
        "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ^_`abcdefghijklmnopqrstuvwxyz{|}~");

    /// <summary>
    /// Finds the timestamp in a greeting: the first <c>&lt;…&gt;</c> that is an RFC 5322 msg-id, such as
    /// <c>&lt;1896.697170952@dbc.mtview.ca.us&gt;</c>, as RFC 1939 section 7 requires. Returns null when
    /// there is none — also when there is only a malformed one: a server that may put any bytes
    /// there can recover the password from the digests through MD5 collisions (CVE-2007-1558), so
    /// such a timestamp is never hashed (fetchmail and mpop refuse it too).
    /// </summary>
    public static string? FindTimestamp(string greeting) =>
        Candidates(greeting).FirstOrDefault(static candidate => IsMsgId(candidate.AsSpan(1, candidate.Length - 2)));

    /// <summary>The first <c>&lt;…&gt;</c> without spaces in a greeting, well-formed or not: what a server meant as its timestamp.</summary>
    public static string? FindCandidate(string greeting) => Candidates(greeting).FirstOrDefault();

    private static IEnumerable<string> Candidates(string greeting)
    {
        for (int open = greeting.IndexOf('<', StringComparison.Ordinal); open >= 0; open = greeting.IndexOf('<', open + 1))
        {
            int close = greeting.IndexOf('>', open + 1);
            if (close < 0)
                yield break;
            if (close > open + 1 && greeting.AsSpan(open + 1, close - open - 1).IndexOfAny(" \t<") < 0)
                yield return greeting.Substring(open, close - open + 1);
        }
    }

    // id-left "@" id-right, each of atext and dots; id-right may be a domain literal "[…]". Dots are
    // not checked for placement: what matters is that every character is from the small set.
    private static bool IsMsgId(ReadOnlySpan<char> id)
    {
        int at = id.IndexOf('@');
        if (at <= 0 || at == id.Length - 1)
            return false;
        ReadOnlySpan<char> left = id[..at];
        ReadOnlySpan<char> right = id[(at + 1)..];
        if (left.ContainsAnyExcept(AText))
            return false;
        return right[0] == '['
            ? right.Length >= 2 && right[^1] == ']' && !right[1..^1].ContainsAnyExcept(DText)
            : !right.ContainsAnyExcept(AText);
    }

    /// <summary>MD5(timestamp + secret) as 32 lower-case hex digits.</summary>
    public static string Compute(string timestamp, string secret)
    {
        // MD5 is what RFC 1939 specifies for APOP; it is not used here for anything else.
#pragma warning disable CA5351
        byte[] hash = MD5.HashData(Encoding.UTF8.GetBytes(timestamp + secret));
#pragma warning restore CA5351
        return Convert.ToHexStringLower(hash);
    }
}
