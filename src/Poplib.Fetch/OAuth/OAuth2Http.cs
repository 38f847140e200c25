using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Poplib.Fetch.OAuth;

/// <summary>
/// Form posts to an authorization server and their JSON answers (RFC 6749 sections 3.2, 5.1, 5.2),
/// hardened: HTTPS unless the server is this machine (loopback: tests, local proxies), no redirect
/// followed (a token endpoint that redirects is misconfigured or hijacked — the form holds secrets), the
/// answer read up to a limit, one timeout for the whole request. Sync and async share one path.
/// </summary>
internal sealed class OAuth2Http : IDisposable
{
    private readonly HttpMessageInvoker _invoker;
    private readonly OAuth2HttpOptions _options;

    public OAuth2Http(OAuth2HttpOptions? options = null)
    {
        _options = options ?? new OAuth2HttpOptions();
        HttpMessageHandler handler = _options.Handler ?? new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            ConnectTimeout = _options.Timeout,
        };
        _invoker = new HttpMessageInvoker(handler, disposeHandler: _options.Handler is null);
    }

    /// <summary>Refuses, before anything is sent, an endpoint that would carry secrets in the clear.</summary>
    public static void RequireSecureEndpoint(Uri endpoint, string what)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (!endpoint.IsAbsoluteUri || (endpoint.Scheme != Uri.UriSchemeHttps && !(endpoint.Scheme == Uri.UriSchemeHttp && endpoint.IsLoopback)))
            throw new ArgumentException($"The {what} {endpoint} must be an https:// URL (http:// only on this machine's loopback address).", nameof(endpoint));
    }

    /// <summary>
    /// Posts the form and returns the answer's JSON object when the status is 200; an OAuth error
    /// document (400/401) becomes <see cref="OAuth2Exception"/> with its code.
    /// </summary>
    public async ValueTask<JsonElement> PostFormAsync(Uri endpoint, IEnumerable<KeyValuePair<string, string>> form, bool async, CancellationToken cancellationToken)
    {
        RequireSecureEndpoint(endpoint, "OAuth 2.0 endpoint");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.Timeout);
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        try
        {
            using HttpResponseMessage response = async
                ? await _invoker.SendAsync(request, timeout.Token).ConfigureAwait(false)
                : _invoker.Send(request, timeout.Token);
            if ((int)response.StatusCode is >= 300 and < 400)
            {
                string target = response.Headers.Location is { } location ? Describe(location.IsAbsoluteUri ? location.Host : endpoint.Host) : "nowhere";
                throw new OAuth2Exception($"{Describe(endpoint.Host)} answered with a redirect (HTTP {(int)response.StatusCode}) to {target}; redirects are never followed for a token request: check the endpoint's URL");
            }

            byte[] body = await ReadBoundedAsync(response.Content, async, timeout.Token).ConfigureAwait(false);
            return Parse(endpoint, response.StatusCode, body);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new OAuth2Exception($"{Describe(endpoint.Host)} did not answer within {_options.Timeout.TotalSeconds:0.#} s");
        }
        catch (HttpRequestException e)
        {
            throw new OAuth2Exception($"cannot reach {Describe(endpoint.Host)}: {e.Message}", innerException: e);
        }
    }

    private async ValueTask<byte[]> ReadBoundedAsync(HttpContent content, bool async, CancellationToken cancellationToken)
    {
        int limit = _options.MaxResponseBytes;
        if (content.Headers.ContentLength > limit)
            throw new OAuth2Exception($"the authorization server's answer is {content.Headers.ContentLength} bytes, over the limit of {limit}");
        Stream stream = async ? await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false) : content.ReadAsStream(cancellationToken);
        await using (stream.ConfigureAwait(false))
        {
            var buffer = new MemoryStream();
            byte[] chunk = new byte[16 * 1024];
            while (true)
            {
                int read = async ? await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false) : stream.Read(chunk);
                if (read == 0)
                    return buffer.ToArray();
                if (buffer.Length + read > limit)
                    throw new OAuth2Exception($"the authorization server's answer is over the limit of {limit} bytes");
                buffer.Write(chunk, 0, read);
            }
        }
    }

    private static JsonElement Parse(Uri endpoint, HttpStatusCode status, byte[] body)
    {
        JsonElement root;
        try
        {
            using JsonDocument document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 16 });
            root = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new OAuth2Exception($"{Describe(endpoint.Host)} answered HTTP {(int)status} with something that is not JSON");
        }

        if (root.ValueKind != JsonValueKind.Object)
            throw new OAuth2Exception($"{Describe(endpoint.Host)} answered HTTP {(int)status} with JSON that is not an object");
        if (status == HttpStatusCode.OK)
            return root;

        string? error = OptionalString(root, "error");
        if (error is null)
            throw new OAuth2Exception($"{Describe(endpoint.Host)} answered HTTP {(int)status} without an OAuth error code");
        string? description = OptionalString(root, "error_description");
        throw new OAuth2Exception(ErrorMessage(error, description), error);
    }

    // RFC 6749 section 5.2's codes, worded for whoever must act.
    private static string ErrorMessage(string error, string? description)
    {
        string detail = description is null ? "" : ": " + Describe(description);
        return error switch
        {
            "invalid_client" or "unauthorized_client" => $"the authorization server does not accept this client ({error}{detail}): check the client id and secret",
            "invalid_scope" => $"the authorization server refused the scopes ({error}{detail})",
            _ => $"the authorization server refused ({Describe(error)}{detail})",
        };
    }

    /// <summary>A string member, or null when absent; a member of another type is the server's error.</summary>
    public static string? OptionalString(JsonElement root, string name) =>
        !root.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind == JsonValueKind.String ? value.GetString()
        : throw new OAuth2Exception($"the authorization server's '{name}' is not a string");

    /// <summary>A whole number member (some servers send it as a string), or null when absent.</summary>
    public static long? OptionalNumber(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
            return null;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out long number))
            return number;
        if (value.ValueKind == JsonValueKind.String && long.TryParse(value.GetString(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out number))
            return number;
        throw new OAuth2Exception($"the authorization server's '{name}' is not a whole number");
    }

    /// <summary>Server text made safe to print: control characters escaped, length capped.</summary>
    public static string Describe(string text)
    {
        const int Max = 300;
        var builder = new StringBuilder();
        foreach (char c in text.Length > Max ? text[..Max] : text)
        {
            if (char.IsControl(c))
                builder.Append(System.Globalization.CultureInfo.InvariantCulture, $"\\x{(int)c:x2}");
            else
                builder.Append(c);
        }

        return text.Length > Max ? builder.Append('…').ToString() : builder.ToString();
    }

    public void Dispose() => _invoker.Dispose();
}
