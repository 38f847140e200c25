using System.Globalization;

namespace Poplib.Fetch.Delivery.Lmtp;

/// <summary>The service extensions an LMTP server announced in its reply to LHLO (EHLO-style keywords).</summary>
internal sealed class LmtpCapabilities
{
    private readonly HashSet<string> _keywords;

    private LmtpCapabilities(HashSet<string> keywords, long? maxSize)
    {
        _keywords = keywords;
        MaxSize = maxSize;
    }

    /// <summary>RFC 2920: commands may be sent in groups.</summary>
    public bool Pipelining => Has("PIPELINING");

    /// <summary>RFC 6152: <c>BODY=8BITMIME</c>.</summary>
    public bool EightBitMime => Has("8BITMIME");

    /// <summary>RFC 6531: UTF-8 addresses.</summary>
    public bool SmtpUtf8 => Has("SMTPUTF8");

    /// <summary>RFC 2034.</summary>
    public bool EnhancedStatusCodes => Has("ENHANCEDSTATUSCODES");

    /// <summary>RFC 1870: <c>SIZE=n</c> is understood.</summary>
    public bool Size => Has("SIZE");

    /// <summary>The largest message the server takes (RFC 1870); null when it named none (or 0, "no limit").</summary>
    public long? MaxSize { get; }

    /// <summary>Every keyword, upper case.</summary>
    public IReadOnlyCollection<string> Keywords => _keywords;

    public bool Has(string keyword) => _keywords.Contains(keyword);

    /// <summary>Reads the keywords from the LHLO reply: every line after the first, keyword first.</summary>
    public static LmtpCapabilities Parse(LmtpReply lhlo)
    {
        var keywords = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        long? maxSize = null;
        foreach (string line in lhlo.Lines.Skip(1))
        {
            string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0)
                continue;
            string keyword = words[0].ToUpperInvariant();
            keywords.Add(keyword);
            if (keyword == "SIZE" && words.Length > 1
                && long.TryParse(words[1], NumberStyles.None, CultureInfo.InvariantCulture, out long size) && size > 0)
            {
                maxSize = size;
            }
        }

        return new LmtpCapabilities(keywords, maxSize);
    }
}
