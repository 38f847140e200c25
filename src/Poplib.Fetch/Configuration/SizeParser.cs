using System.Globalization;

namespace Poplib.Fetch.Configuration;

/// <summary>Sizes as people write them: 1048576, 512K, 10M, 1G (powers of 1024).</summary>
internal static class SizeParser
{
    public static bool TryParse(string text, out long octets)
    {
        octets = 0;
        text = text.Trim();
        if (text.Length == 0)
            return false;
        long unit = char.ToUpperInvariant(text[^1]) switch
        {
            'K' => 1L << 10,
            'M' => 1L << 20,
            'G' => 1L << 30,
            _ => 1,
        };
        string digits = unit == 1 ? text : text[..^1];
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long value) || value <= 0 || value > long.MaxValue / unit)
            return false;
        octets = value * unit;
        return true;
    }
}
