using System.Security.Cryptography;
using System.Text;

namespace Poplib.Testing.Protocol;

/// <summary>The APOP timestamp of RFC 1939 section 7: made for each greeting, found in it, checked against a digest.</summary>
internal static class ApopTimestamp
{
    private static long _counter;

    /// <summary>A fresh <c>&lt;pid.counter.clock@host&gt;</c>, unique per connection as RFC 1939 wants.</summary>
    public static string Create(string hostName) =>
        $"<{Environment.ProcessId}.{Interlocked.Increment(ref _counter)}.{Environment.TickCount64}@{hostName}>";

    /// <summary>The first <c>&lt;…&gt;</c> without spaces in a greeting, or null.</summary>
    public static string? Find(string greeting)
    {
        for (int open = greeting.IndexOf('<', StringComparison.Ordinal); open >= 0; open = greeting.IndexOf('<', open + 1))
        {
            int close = greeting.IndexOf('>', open + 1);
            if (close < 0)
                return null;
            ReadOnlySpan<char> inside = greeting.AsSpan(open + 1, close - open - 1);
            if (inside.Length > 0 && inside.IndexOfAny(" \t<") < 0)
                return greeting[open..(close + 1)];
        }

        return null;
    }

    /// <summary>Whether <paramref name="digest"/> is MD5(timestamp + password) in hex.</summary>
    public static bool Verify(string timestamp, string password, string digest)
    {
        // MD5 is what RFC 1939 prescribes for APOP; it protects nothing else here.
#pragma warning disable CA5351
        byte[] expected = MD5.HashData(Encoding.UTF8.GetBytes(timestamp + password));
#pragma warning restore CA5351
        byte[] given;
        try
        {
            given = Convert.FromHexString(digest);
        }
        catch (FormatException)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(expected, given);
    }
}
