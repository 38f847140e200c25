using System.Text.Json;

namespace Poplib.Fetch.OAuth;

/// <summary>
/// Obtains the first refresh token for an account, the two ways a program on the user's machine may:
/// the device authorization grant (RFC 8628: the user types a code on any device; Microsoft) and the
/// authorization code grant with PKCE and a loopback redirect (RFCs 7636 and 8252: a browser on this
/// machine; Google, whose device flow does not allow the mail scope). The result is an
/// <see cref="OAuth2Grant"/> to keep in an <see cref="OAuth2TokenStore"/>. Interactive, so async only.
/// </summary>
public sealed class OAuth2SignIn : IDisposable
{
    private const string DeviceCodeGrant = "urn:ietf:params:oauth:grant-type:device_code";
    private static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(5); // RFC 8628 section 3.2
    private static readonly TimeSpan SlowDownStep = TimeSpan.FromSeconds(5); // RFC 8628 section 3.5

    private readonly OAuth2Provider _provider;
    private readonly string _clientId;
    private readonly OAuth2SignInOptions _options;
    private readonly OAuth2Http _http;

    /// <param name="provider">The authorization server.</param>
    /// <param name="clientId">The application's client id, registered with the provider.</param>
    /// <param name="options">Secret, user, limits; null: the defaults.</param>
    public OAuth2SignIn(OAuth2Provider provider, string clientId, OAuth2SignInOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(provider);
        ArgumentException.ThrowIfNullOrWhiteSpace(clientId);
        _provider = provider;
        _clientId = clientId;
        _options = options ?? new OAuth2SignInOptions();
        _http = new OAuth2Http(_options.Http);
    }

    /// <summary>
    /// The device flow: asks for a code, hands it to <paramref name="show"/> (print it), then polls the
    /// token endpoint at the server's interval — five seconds slower after each <c>slow_down</c> — until the
    /// user approves, refuses (<c>access_denied</c>) or the code expires (<c>expired_token</c>).
    /// </summary>
    /// <exception cref="NotSupportedException">The provider has no device authorization endpoint.</exception>
    /// <exception cref="OAuth2Exception">The user refused, the code expired, or the server failed.</exception>
    public async Task<OAuth2Grant> SignInWithDeviceCodeAsync(Action<OAuth2DeviceCode> show, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(show);
        Uri endpoint = _provider.DeviceAuthorizationEndpoint
            ?? throw new NotSupportedException($"{_provider.Name} offers no device sign-in for these scopes: use the browser sign-in.");
        TimeProvider clock = _options.TimeProvider;
        JsonElement answer = await _http.PostFormAsync(endpoint, [new("client_id", _clientId), new("scope", Scope)], async: true, cancellationToken).ConfigureAwait(false);
        string host = OAuth2Http.Describe(endpoint.Host);
        string deviceCode = OAuth2Http.OptionalString(answer, "device_code") ?? throw new OAuth2Exception($"{host} answered without a device_code");
        string userCode = OAuth2Http.OptionalString(answer, "user_code") ?? throw new OAuth2Exception($"{host} answered without a user_code");
        // Google calls it verification_url.
        string verification = OAuth2Http.OptionalString(answer, "verification_uri") ?? OAuth2Http.OptionalString(answer, "verification_url")
            ?? throw new OAuth2Exception($"{host} answered without a verification_uri");
        long expiresIn = OAuth2Http.OptionalNumber(answer, "expires_in") ?? throw new OAuth2Exception($"{host} answered without expires_in");
        TimeSpan interval = OAuth2Http.OptionalNumber(answer, "interval") is { } seconds and > 0 and < 3600 ? TimeSpan.FromSeconds(seconds) : DefaultInterval;
        DateTimeOffset expires = clock.GetUtcNow() + TimeSpan.FromSeconds(Math.Clamp(expiresIn, 1, 24 * 3600));
        string? complete = OAuth2Http.OptionalString(answer, "verification_uri_complete");
        show(new OAuth2DeviceCode(
            OAuth2Http.Describe(userCode),
            WebUri(verification, host),
            complete is null ? null : WebUri(complete, host),
            expires,
            OAuth2Http.OptionalString(answer, "message") is { } message ? OAuth2Http.Describe(message) : null));

        while (true)
        {
            await Task.Delay(interval, clock, cancellationToken).ConfigureAwait(false);
            if (clock.GetUtcNow() >= expires)
                throw new OAuth2Exception("the sign-in code expired before it was used: sign in again", "expired_token");
            try
            {
                return await RedeemAsync([new("grant_type", DeviceCodeGrant), new("device_code", deviceCode)], cancellationToken).ConfigureAwait(false);
            }
            catch (OAuth2Exception e) when (e.Error == "authorization_pending")
            {
            }
            catch (OAuth2Exception e) when (e.Error == "slow_down")
            {
                interval += SlowDownStep;
            }
            catch (OAuth2Exception e) when (e.Error is "access_denied" or "expired_token")
            {
                throw new OAuth2Exception(e.Error == "access_denied"
                    ? "the sign-in was refused in the browser (access_denied)"
                    : "the sign-in code expired before it was used (expired_token): sign in again", e.Error, e);
            }
        }
    }

    /// <summary>
    /// The authorization-code flow with PKCE (S256): listens on a random port of 127.0.0.1, hands the
    /// authorization URL to <paramref name="openBrowser"/> (print it, start a browser), waits for the
    /// browser's redirect with a matching <c>state</c> (other requests are answered and ignored), and
    /// exchanges the code. Gives up after <see cref="OAuth2SignInOptions.BrowserTimeout"/>.
    /// </summary>
    /// <exception cref="NotSupportedException">The provider has no authorization endpoint.</exception>
    /// <exception cref="OAuth2Exception">The user refused, the time ran out, or the server failed.</exception>
    public async Task<OAuth2Grant> SignInWithBrowserAsync(Action<Uri> openBrowser, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(openBrowser);
        Uri endpoint = _provider.AuthorizationEndpoint
            ?? throw new NotSupportedException($"{_provider.Name} has no authorization endpoint configured.");
        var pkce = Pkce.Create();
        using var listener = LoopbackRedirect.Start();
        var query = new List<KeyValuePair<string, string>>
        {
            new("response_type", "code"),
            new("client_id", _clientId),
            new("redirect_uri", listener.RedirectUri),
            new("scope", Scope),
            new("state", pkce.State),
            new("code_challenge", pkce.Challenge),
            new("code_challenge_method", "S256"),
        };
        if (_options.User is { } user)
            query.Add(new("login_hint", user));
        query.AddRange(_provider.AuthorizationParameters);
        openBrowser(new Uri(endpoint.AbsoluteUri + (endpoint.Query.Length > 0 ? "&" : "?") + FormQuery(query)));

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.BrowserTimeout);
        string code;
        try
        {
            code = await listener.WaitForCodeAsync(pkce.State, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new OAuth2Exception($"the browser sign-in was not finished within {_options.BrowserTimeout.TotalMinutes:0.#} min");
        }

        return await RedeemAsync(
            [new("grant_type", "authorization_code"), new("code", code), new("redirect_uri", listener.RedirectUri), new("code_verifier", pkce.Verifier)],
            cancellationToken).ConfigureAwait(false);
    }

    private string Scope => string.Join(' ', _provider.Scopes);

    private async Task<OAuth2Grant> RedeemAsync(List<KeyValuePair<string, string>> form, CancellationToken cancellationToken)
    {
        form.Add(new("client_id", _clientId));
        if (_options.ClientSecret is { Length: > 0 } secret)
            form.Add(new("client_secret", secret));
        DateTimeOffset asked = _options.TimeProvider.GetUtcNow();
        JsonElement answer = await _http.PostFormAsync(_provider.TokenEndpoint, form, async: true, cancellationToken).ConfigureAwait(false);
        OAuth2TokenResponse token = OAuth2TokenResponse.From(answer, _provider.TokenEndpoint);
        string refresh = token.RefreshToken ?? throw new OAuth2Exception(
            $"{OAuth2Http.Describe(_provider.TokenEndpoint.Host)} issued no refresh token: without one poplib would have to ask you again within the hour" +
            (_provider.Name == "microsoft" ? " (is offline_access among the scopes?)" : _provider.Name == "google" ? " (access_type=offline and prompt=consent were asked for)" : ""));
        return new OAuth2Grant
        {
            Provider = _provider.Name,
            ClientId = _clientId,
            ClientSecret = _options.ClientSecret,
            Tenant = _provider.Tenant,
            TokenEndpoint = _provider.TokenEndpoint,
            Scopes = token.Scopes ?? _provider.Scopes,
            User = _options.User,
            RefreshToken = refresh,
            AccessToken = token.AccessToken,
            AccessTokenExpires = token.ExpiresIn is { } life ? asked + life : null,
            Obtained = asked,
        };
    }

    // Only a web page may be shown to the user as where to go.
    private static Uri WebUri(string text, string host) =>
        Uri.TryCreate(text, UriKind.Absolute, out Uri? uri) && uri.Scheme is "https" or "http"
            ? uri : throw new OAuth2Exception($"{host} gave a verification address that is not a web address");

    internal static string FormQuery(IEnumerable<KeyValuePair<string, string>> pairs) =>
        string.Join('&', pairs.Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value)));

    /// <summary>Names the provider and client only.</summary>
    public override string ToString() => $"OAuth2SignIn({_provider.Name}, {_clientId})";

    /// <inheritdoc/>
    public void Dispose() => _http.Dispose();
}
