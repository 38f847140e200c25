using System.Globalization;
using System.Text;

namespace Poplib.Testing.OAuth.Http;

/// <summary>A response to write: status, content type, extra headers and the body (JSON by default, never cached: RFC 6749 section 5.1).</summary>
internal sealed record HttpResponse(int Status, byte[] Body, string ContentType = "application/json;charset=UTF-8")
{
    public IReadOnlyList<KeyValuePair<string, string>> ExtraHeaders { get; init; } = [];

    public static HttpResponse Json(int status, byte[] body) => new(status, body);

    public static HttpResponse Html(int status, string html) => new(status, Encoding.UTF8.GetBytes(html), "text/html;charset=UTF-8");

    public static HttpResponse Redirect(int status, string location) =>
        new(status, [], "text/plain") { ExtraHeaders = [new("Location", location)] };

    /// <summary>The status line and headers; with <paramref name="contentLength"/> null the body runs until the connection closes.</summary>
    public byte[] Head(long? contentLength)
    {
        var head = new StringBuilder();
        head.Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {Status} {ReasonPhrase(Status)}\r\n");
        head.Append(CultureInfo.InvariantCulture, $"Content-Type: {ContentType}\r\n");
        head.Append("Cache-Control: no-store\r\nPragma: no-cache\r\nConnection: close\r\n");
        if (contentLength is { } length)
            head.Append(CultureInfo.InvariantCulture, $"Content-Length: {length}\r\n");
        foreach ((string name, string value) in ExtraHeaders)
            head.Append(CultureInfo.InvariantCulture, $"{name}: {value}\r\n");
        head.Append("\r\n");
        return Encoding.ASCII.GetBytes(head.ToString());
    }

    private static string ReasonPhrase(int status) => status switch
    {
        200 => "OK",
        302 => "Found",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "Status",
    };
}
