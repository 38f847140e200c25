namespace Poplib.Testing.OAuth;

/// <summary>
/// A way for an <see cref="OAuth2TestServer"/> endpoint to misbehave, to test how a client copes with a
/// hostile or broken authorization server (<see cref="OAuth2TestServer.InjectFault"/>). Faults that keep
/// the real answer (<see cref="DelayBeforeHeaders"/>, <see cref="TrickleBody"/>, <see cref="CloseMidBody"/>)
/// still process the request: a refresh token sent to them is rotated away, as it would be by a real
/// server whose answer was lost.
/// </summary>
public abstract record OAuth2Fault
{
    private protected OAuth2Fault() { }

    /// <summary>The real answer, after <paramref name="delay"/> without a byte.</summary>
    public static OAuth2Fault DelayBeforeHeaders(TimeSpan delay) => new DelayBeforeHeadersFault(delay);

    /// <summary>The real answer's headers at once, then its body one byte every <paramref name="interval"/>.</summary>
    public static OAuth2Fault TrickleBody(TimeSpan interval) => new TrickleBodyFault(interval);

    /// <summary><c>200 OK</c>, <c>application/json</c>, and a body that is not JSON.</summary>
    public static OAuth2Fault GarbageJson() => new GarbageJsonFault();

    /// <summary>
    /// <c>200 OK</c> and a JSON body of <paramref name="bytes"/> bytes (one huge <c>access_token</c>),
    /// streamed with its Content-Length; <see langword="null"/> for no Content-Length and no end.
    /// </summary>
    public static OAuth2Fault HugeJsonBody(long? bytes = 50L * 1024 * 1024) => new HugeJsonBodyFault(bytes);

    /// <summary>A redirect (<paramref name="status"/> 301, 302, 303, 307 or 308) to <paramref name="location"/>, another host say.</summary>
    public static OAuth2Fault Redirect(Uri location, int status = 302) => new RedirectFault(location, status);

    /// <summary><c>500 Internal Server Error</c> with an HTML page, as a proxy in front of a broken server sends.</summary>
    public static OAuth2Fault ServerErrorHtml() => new ServerErrorHtmlFault();

    /// <summary>The real answer's headers and half its body, then the connection closed.</summary>
    public static OAuth2Fault CloseMidBody() => new CloseMidBodyFault();

    /// <summary>The request read, then nothing: no answer until the client gives up or the server stops.</summary>
    public static OAuth2Fault NeverRespond() => new NeverRespondFault();

    internal abstract void Validate();
}

internal sealed record DelayBeforeHeadersFault(TimeSpan Delay) : OAuth2Fault
{
    internal override void Validate() => OAuth2TestServerOptions.ThrowIfNotPositive(Delay, nameof(Delay));
}

internal sealed record TrickleBodyFault(TimeSpan Interval) : OAuth2Fault
{
    internal override void Validate() => OAuth2TestServerOptions.ThrowIfNotPositive(Interval, nameof(Interval));
}

internal sealed record GarbageJsonFault : OAuth2Fault
{
    internal override void Validate() { }
}

internal sealed record HugeJsonBodyFault(long? Bytes) : OAuth2Fault
{
    internal override void Validate()
    {
        if (Bytes is { } bytes)
            ArgumentOutOfRangeException.ThrowIfLessThan(bytes, 64L, nameof(Bytes));
    }
}

internal sealed record RedirectFault(Uri Location, int Status) : OAuth2Fault
{
    internal override void Validate()
    {
        ArgumentNullException.ThrowIfNull(Location, nameof(Location));
        if (!Location.IsAbsoluteUri)
            throw new ArgumentException("The redirect must be an absolute URI.", nameof(Location));
        if (Status is not (301 or 302 or 303 or 307 or 308))
            throw new ArgumentOutOfRangeException(nameof(Status), Status, "A redirect status: 301, 302, 303, 307 or 308.");
    }
}

internal sealed record ServerErrorHtmlFault : OAuth2Fault
{
    internal override void Validate() { }
}

internal sealed record CloseMidBodyFault : OAuth2Fault
{
    internal override void Validate() { }
}

internal sealed record NeverRespondFault : OAuth2Fault
{
    internal override void Validate() { }
}
