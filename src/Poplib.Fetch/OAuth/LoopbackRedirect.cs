using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Poplib.Fetch.OAuth;

/// <summary>
/// The redirect target of a browser sign-in (RFC 8252 section 7.3): a listener on 127.0.0.1 at a port
/// the system picks, which reads one bounded request at a time, answers it with a short page, and
/// hands back the code of the request whose <c>state</c> matches. Anything else that reaches the port
/// (a favicon request, a stale tab, another local program) gets an error page and changes nothing.
/// </summary>
internal sealed class LoopbackRedirect : IDisposable
{
    private const int MaxRequestBytes = 16 * 1024;
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    private readonly TcpListener _listener;

    private LoopbackRedirect(TcpListener listener)
    {
        _listener = listener;
        RedirectUri = string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/");
    }

    public string RedirectUri { get; }

    public static LoopbackRedirect Start()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return new LoopbackRedirect(listener);
    }

    public async Task<string> WaitForCodeAsync(string state, CancellationToken cancellationToken)
    {
        while (true)
        {
            using TcpClient connection = await _listener.AcceptTcpClientAsync(cancellationToken).ConfigureAwait(false);
            using var perRequest = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            perRequest.CancelAfter(RequestTimeout);
            NetworkStream stream = connection.GetStream();
            string? target;
            try
            {
                target = await ReadRequestTargetAsync(stream, perRequest.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                continue; // a client that says nothing is dropped, the wait goes on
            }

            if (target is null || !target.StartsWith('/') || target.Split('?')[0] != "/")
            {
                await RespondAsync(stream, "404 Not Found", "Not found.", cancellationToken).ConfigureAwait(false);
                continue;
            }

            Dictionary<string, string> query = ParseQuery(target.Contains('?', StringComparison.Ordinal) ? target[(target.IndexOf('?', StringComparison.Ordinal) + 1)..] : "");
            if (!query.TryGetValue("state", out string? received) || received != state)
            {
                await RespondAsync(stream, "400 Bad Request", "This sign-in request is not the one poplib is waiting for.", cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (query.TryGetValue("error", out string? error))
            {
                await RespondAsync(stream, "200 OK", "The sign-in was not completed. You can close this window.", cancellationToken).ConfigureAwait(false);
                string description = query.TryGetValue("error_description", out string? text) ? ": " + OAuth2Http.Describe(text) : "";
                throw new OAuth2Exception(error == "access_denied"
                    ? $"the sign-in was refused in the browser (access_denied{description})"
                    : $"the authorization server ended the sign-in with {OAuth2Http.Describe(error)}{description}", error);
            }

            if (!query.TryGetValue("code", out string? code) || code.Length == 0)
            {
                await RespondAsync(stream, "400 Bad Request", "The redirect carries no code.", cancellationToken).ConfigureAwait(false);
                continue;
            }

            await RespondAsync(stream, "200 OK", "Signed in: poplib has what it needs. You can close this window.", cancellationToken).ConfigureAwait(false);
            return code;
        }
    }

    // The request line's target, once the headers have ended; null for anything that is not a GET.
    private static async Task<string?> ReadRequestTargetAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[MaxRequestBytes];
        int length = 0;
        while (true)
        {
            int read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (read == 0)
                return null;
            length += read;
            if (buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8) >= 0)
                break;
            if (length == buffer.Length)
                return null;
        }

        string head = Encoding.ASCII.GetString(buffer, 0, length);
        string[] requestLine = head[..head.IndexOf("\r\n", StringComparison.Ordinal)].Split(' ');
        return requestLine is ["GET", string target, _] ? target : null;
    }

    private static Dictionary<string, string> ParseQuery(string query)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int equals = pair.IndexOf('=', StringComparison.Ordinal);
            string name = Uri.UnescapeDataString((equals < 0 ? pair : pair[..equals]).Replace('+', ' '));
            string value = equals < 0 ? "" : Uri.UnescapeDataString(pair[(equals + 1)..].Replace('+', ' '));
            values.TryAdd(name, value);
        }

        return values;
    }

    private static async Task RespondAsync(NetworkStream stream, string status, string text, CancellationToken cancellationToken)
    {
        string html = $"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>poplib</title></head><body><p>{WebUtility.HtmlEncode(text)}</p></body></html>";
        byte[] body = Encoding.UTF8.GetBytes(html);
        byte[] head = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {body.Length}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"));
        try
        {
            await stream.WriteAsync(head, cancellationToken).ConfigureAwait(false);
            await stream.WriteAsync(body, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The browser went away: the code, if any, is still good.
        }
    }

    public void Dispose() => _listener.Dispose();
}
