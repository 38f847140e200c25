using System.Buffers;
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
        // Runs once per message delivered: the header is decoded into a pooled buffer and walked as
        // spans, so the only string made is the value itself.
        char[] buffer = ArrayPool<char>.Shared.Rent(Encoding.UTF8.GetMaxCharCount(header.Length));
        try
        {
            return Find(buffer.AsSpan(0, Encoding.UTF8.GetChars(header, buffer)), name);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(buffer);
        }
    }

    private static string? Find(ReadOnlySpan<char> text, string name)
    {
        string? value = null;
        while (true)
        {
            int end = text.IndexOf('\n');
            ReadOnlySpan<char> line = (end < 0 ? text : text[..end]).TrimEnd('\r');
            if (line.Length == 0)
                break; // the end of the header
            if (value is not null)
            {
                if (line[0] is not (' ' or '\t'))
                    break;
                value = string.Concat(value, " ", line.Trim()); // a folded continuation: rare
            }
            else if (line.Length > name.Length && line[name.Length] == ':' && line.StartsWith(name, StringComparison.OrdinalIgnoreCase))
            {
                value = new string(line[(name.Length + 1)..].Trim());
            }

            if (end < 0)
                break;
            text = text[(end + 1)..];
        }

        value = value?.Trim();
        return string.IsNullOrEmpty(value) ? null : value;
    }
}
