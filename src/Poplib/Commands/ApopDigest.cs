using System.Security.Cryptography;
using System.Text;

namespace Poplib.Commands;

/// <summary>The APOP digest of RFC 1939 section 7 and the greeting timestamp it is computed from.</summary>
internal static class ApopDigest
{
    /// <summary>
    /// Finds the timestamp (<c>&lt;…&gt;</c>, a msg-id such as <c>&lt;1896.697170952@dbc.mtview.ca.us&gt;</c>)
    /// in a greeting, or returns null when the server sent none (and so offers no APOP).
    /// </summary>
    public static string? FindTimestamp(string greeting)
    {
        int open = greeting.IndexOf('<', StringComparison.Ordinal);
        while (open >= 0)
        {
            int close = greeting.IndexOf('>', open + 1);
            if (close < 0)
                return null;
            ReadOnlySpan<char> inside = greeting.AsSpan(open + 1, close - open - 1);
            if (inside.Length > 0 && inside.IndexOfAny(" \t<") < 0)
                return greeting.Substring(open, close - open + 1);
            open = greeting.IndexOf('<', open + 1);
        }

        return null;
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
