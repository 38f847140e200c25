namespace Poplib.Fetch.OAuth;

/// <summary>Limits for talking to an authorization server: it is a peer on the network like any other.</summary>
public sealed class OAuth2HttpOptions
{
    /// <summary>The default <see cref="MaxResponseBytes"/>: 1 MiB, a thousand times a real token response.</summary>
    public const int DefaultMaxResponseBytes = 1 << 20;

    /// <summary>How long one request may take, answer read in full included; default 30 seconds.</summary>
    public TimeSpan Timeout
    {
        get;
        set => field = value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "A timeout must be positive.");
    } = TimeSpan.FromSeconds(30);

    /// <summary>The largest answer read; a longer one is an error. Default <see cref="DefaultMaxResponseBytes"/>.</summary>
    public int MaxResponseBytes
    {
        get;
        set => field = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "The limit must be positive.");
    } = DefaultMaxResponseBytes;

    /// <summary>
    /// For tests and proxies: the handler requests go through (its redirect setting is ignored: redirects
    /// are always errors). Null (the default): a handler of the library's own.
    /// </summary>
    public HttpMessageHandler? Handler { get; set; }
}
