using System.Text;

namespace Poplib.Testing.OAuth.Http;

/// <summary>A request that did not make it past the reader: answered with <see cref="Status"/> and the connection closed.</summary>
internal sealed class BadHttpRequestException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}

/// <summary>One HTTP/1.1 request as the reader took it: the method, the path and query, the headers that matter, the body.</summary>
internal sealed class HttpRequest
{
    public required string Method { get; init; }

    public required string Path { get; init; }

    public required string Query { get; init; }

    public required IReadOnlyDictionary<string, string> Headers { get; init; }

    public required byte[] Body { get; init; }

    public string? Header(string name) => Headers.TryGetValue(name, out string? value) ? value : null;

    /// <summary>
    /// The parameters of a query or an <c>application/x-www-form-urlencoded</c> body. A name given twice
    /// is refused (RFC 6749 section 3.1: parameters must not be included more than once).
    /// </summary>
    public static bool TryParseForm(string text, out Dictionary<string, string> form)
    {
        form = new Dictionary<string, string>(StringComparer.Ordinal);
        if (text.Length == 0)
            return true;
        foreach (string pair in text.Split('&'))
        {
            if (pair.Length == 0)
                continue;
            int equals = pair.IndexOf('=', StringComparison.Ordinal);
            string name = Decode(equals < 0 ? pair : pair[..equals]);
            string value = equals < 0 ? "" : Decode(pair[(equals + 1)..]);
            if (!form.TryAdd(name, value))
                return false;
        }

        return true;
    }

    public bool TryReadForm(out Dictionary<string, string> form)
    {
        form = [];
        string? type = Header("content-type");
        if (type is null || !type.Split(';')[0].Trim().Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
            return false;
        try
        {
            return TryParseForm(StrictAscii.GetString(Body), out form);
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }

    private static readonly Encoding StrictAscii = Encoding.GetEncoding("us-ascii", EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback);

    private static string Decode(string value) => Uri.UnescapeDataString(value.Replace('+', ' '));
}
