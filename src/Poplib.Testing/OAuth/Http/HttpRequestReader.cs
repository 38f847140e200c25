using System.Globalization;
using System.Text;

namespace Poplib.Testing.OAuth.Http;

/// <summary>
/// Reads one HTTP/1.1 request from a connection, bounded everywhere: the head (request line and
/// headers) by <see cref="OAuth2TestServerOptions.MaxRequestHeadBytes"/>, the body by
/// <see cref="OAuth2TestServerOptions.MaxRequestBodyBytes"/> and only with a Content-Length (no chunked
/// bodies), the whole by the caller's timeout. What does not fit is a <see cref="BadHttpRequestException"/>.
/// </summary>
internal static class HttpRequestReader
{
    private static readonly byte[] EndOfHead = "\r\n\r\n"u8.ToArray();

    /// <summary>The request, or null when the client closed the connection before sending one.</summary>
    public static async Task<HttpRequest?> ReadAsync(Stream stream, int maxHeadBytes, int maxBodyBytes, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[maxHeadBytes];
        int filled = 0, headEnd;
        while ((headEnd = buffer.AsSpan(0, filled).IndexOf(EndOfHead)) < 0)
        {
            if (filled == buffer.Length)
                throw new BadHttpRequestException(431, $"The request line and headers exceed {maxHeadBytes} bytes.");
            int read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false);
            if (read == 0)
                return filled == 0 ? null : throw new BadHttpRequestException(400, "The connection closed in the middle of the request head.");
            filled += read;
        }

        string[] lines = Encoding.Latin1.GetString(buffer, 0, headEnd).Split("\r\n");
        string[] requestLine = lines[0].Split(' ');
        if (requestLine is not [string method, string target, "HTTP/1.1" or "HTTP/1.0"] || method.Length == 0 || !target.StartsWith('/'))
            throw new BadHttpRequestException(400, "Malformed request line.");

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (string line in lines.Skip(1))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || line[0] is ' ' or '\t')
                throw new BadHttpRequestException(400, "Malformed header line.");
            string name = line[..colon].Trim(), value = line[(colon + 1)..].Trim();
            // Two Content-Length headers are the start of request smuggling: refused, as RFC 9112 section 6.3 says.
            if (!headers.TryAdd(name, value) && name.Equals("content-length", StringComparison.OrdinalIgnoreCase))
                throw new BadHttpRequestException(400, "More than one Content-Length.");
        }

        if (headers.ContainsKey("transfer-encoding"))
            throw new BadHttpRequestException(501, "Transfer-Encoding is not supported; send a Content-Length.");
        int length = 0;
        if (headers.TryGetValue("content-length", out string? declared)
            && (!int.TryParse(declared, NumberStyles.None, CultureInfo.InvariantCulture, out length) || length < 0))
            throw new BadHttpRequestException(400, "Malformed Content-Length.");
        if (length > maxBodyBytes)
            throw new BadHttpRequestException(413, $"The body exceeds {maxBodyBytes} bytes.");

        byte[] body = new byte[length];
        int buffered = Math.Min(length, filled - headEnd - EndOfHead.Length);
        buffer.AsSpan(headEnd + EndOfHead.Length, buffered).CopyTo(body);
        if (buffered < length)
            await stream.ReadExactlyAsync(body.AsMemory(buffered), cancellationToken).ConfigureAwait(false);

        int question = target.IndexOf('?', StringComparison.Ordinal);
        return new HttpRequest
        {
            Method = method,
            Path = question < 0 ? target : target[..question],
            Query = question < 0 ? "" : target[(question + 1)..],
            Headers = headers,
            Body = body,
        };
    }
}
