using System.Text;

namespace Poplib.Fetch.Delivery;

/// <summary>Reads the few header fields fetch needs, from a message's header block (LF or CRLF lines).</summary>
internal static class MessageHeaders
{
    /// <summary>The Message-ID field's value (unfolded, trimmed), or null when there is none.</summary>
    public static string? FindMessageId(ReadOnlySpan<byte> header) => Find(header, "Message-ID");

    /// <summary>The value of the first field called <paramref name="name"/> (case-insensitive), unfolded; null if absent.</summary>
    public static string? Find(ReadOnlySpan<byte> header, string name)
    {
        string text = Encoding.UTF8.GetString(header);
        string? value = null;
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.TrimEnd('\r');
            if (line.Length == 0)
                break; // the end of the header
            if (value is not null)
            {
                if (line[0] is ' ' or '\t')
                {
                    value += " " + line.Trim();
                    continue;
                }

                break;
            }

            if (line.Length > name.Length && line[name.Length] == ':' && line.StartsWith(name, StringComparison.OrdinalIgnoreCase))
                value = line[(name.Length + 1)..].Trim();
        }

        value = value?.Trim();
        return string.IsNullOrEmpty(value) ? null : value;
    }
}
