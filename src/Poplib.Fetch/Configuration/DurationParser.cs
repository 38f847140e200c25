using System.Globalization;

namespace Poplib.Fetch.Configuration;

/// <summary>Durations as people write them: 90 (seconds), 90s, 30m, 2h.</summary>
internal static class DurationParser
{
    public static bool TryParse(string text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        text = text.Trim();
        if (text.Length == 0)
            return false;
        long unit = char.ToLowerInvariant(text[^1]) switch
        {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            _ => 0,
        };
        string digits = unit == 0 ? text : text[..^1];
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long value) || value <= 0 || value * Math.Max(unit, 1) > 7 * 24 * 3600)
            return false;
        duration = TimeSpan.FromSeconds(value * Math.Max(unit, 1));
        return true;
    }

    /// <summary>The shortest way to write it back: 30m, 90s, 2h.</summary>
    public static string Format(TimeSpan duration)
    {
        long seconds = (long)duration.TotalSeconds;
        return seconds % 3600 == 0 ? string.Create(CultureInfo.InvariantCulture, $"{seconds / 3600}h")
            : seconds % 60 == 0 ? string.Create(CultureInfo.InvariantCulture, $"{seconds / 60}m")
            : string.Create(CultureInfo.InvariantCulture, $"{seconds}s");
    }
}
