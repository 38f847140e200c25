using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Poplib.Testing.OAuth.Authority;
using Poplib.Testing.OAuth.Http;

namespace Poplib.Testing.OAuth;

/// <summary>
/// An in-process OAuth 2.0 authorization server on a free loopback port, for testing OAuth clients
/// without the internet: the token endpoint (refresh tokens with rotation, authorization codes with
/// PKCE, device codes), the device authorization endpoint and an authorization endpoint that approves
/// at once as <see cref="SignedInUser"/>. Plain HTTP/1.1 on a socket, one request per connection, every
/// read bounded by <see cref="OAuth2TestServerOptions"/>; test hooks to approve device codes, revoke
/// tokens, count requests, and make an endpoint misbehave (<see cref="InjectFault"/>). Its
/// <see cref="ValidateAccessToken"/> plugs into <see cref="Pop3TestServerOptions.AccessTokenValidator"/>.
/// </summary>
public sealed class OAuth2TestServer : IAsyncDisposable
{
    private readonly OAuth2TestServerOptions _options;
    private readonly OAuth2Authority _authority;
    private readonly TokenEndpoint _token;
    private readonly DeviceAuthorizationEndpoint _deviceAuthorization;
    private readonly AuthorizationEndpoint _authorization;
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly ConcurrentDictionary<Task, bool> _connections = new();
    private readonly int[] _requestCounts = new int[3];
    private readonly IReadOnlyDictionary<string, string>?[] _lastRequests = new IReadOnlyDictionary<string, string>?[3];
    private readonly (OAuth2Fault Fault, int Remaining)?[] _faults = new (OAuth2Fault, int)?[3];
    private readonly Task _acceptLoop;

    private OAuth2TestServer(OAuth2TestServerOptions options)
    {
        _options = options;
        _authority = new OAuth2Authority(options.TimeProvider);
        _token = new TokenEndpoint(_authority);
        _deviceAuthorization = new DeviceAuthorizationEndpoint(_authority, options, () => VerificationUri);
        _authorization = new AuthorizationEndpoint(_authority, options);
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        BaseAddress = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{Port}/"));
        _acceptLoop = AcceptAsync();
    }

    /// <summary>Starts a server on a free port of 127.0.0.1.</summary>
    public static OAuth2TestServer Start(OAuth2TestServerOptions? options = null) => new((options ?? new OAuth2TestServerOptions()).Validate());

    /// <summary>The port the server listens on.</summary>
    public int Port { get; }

    /// <summary><c>http://127.0.0.1:port/</c>.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The token endpoint, <c>POST /token</c>.</summary>
    public Uri TokenEndpoint => new(BaseAddress, "token");

    /// <summary>The device authorization endpoint, <c>POST /devicecode</c>.</summary>
    public Uri DeviceAuthorizationEndpoint => new(BaseAddress, "devicecode");

    /// <summary>The authorization endpoint, <c>GET /authorize</c>.</summary>
    public Uri AuthorizationEndpoint => new(BaseAddress, "authorize");

    /// <summary>The page a device authorization sends the user to (<c>verification_uri</c>), <c>GET /device</c>.</summary>
    public Uri VerificationUri => new(BaseAddress, "device");

    /// <summary>How long access tokens issued from now on last (<c>expires_in</c>). Default 1 hour.</summary>
    public TimeSpan AccessTokenLifetime
    {
        get { lock (_authority.Gate) return _authority.AccessTokenLifetime; }
        set
        {
            OAuth2TestServerOptions.ThrowIfNotPositive(value, nameof(value));
            lock (_authority.Gate) _authority.AccessTokenLifetime = value;
        }
    }

    /// <summary>The length of access tokens issued from now on, at least 16. Default 64; Microsoft's are JWTs of 1,500 to 3,000 characters.</summary>
    public int AccessTokenLength
    {
        get { lock (_authority.Gate) return _authority.AccessTokenLength; }
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 16);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 64 * 1024);
            lock (_authority.Gate) _authority.AccessTokenLength = value;
        }
    }

    /// <summary>How long a refresh token stays good after it is issued; <see langword="null"/> (the default) for ever.</summary>
    public TimeSpan? RefreshTokenLifetime
    {
        get { lock (_authority.Gate) return _authority.RefreshTokenLifetime; }
        set
        {
            if (value is { } lifetime)
                ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lifetime, TimeSpan.Zero, nameof(value)); // days are fine: no timer waits on it
            lock (_authority.Gate) _authority.RefreshTokenLifetime = value;
        }
    }

    /// <summary>
    /// Whether each refresh answers with a new refresh token and retires the one used — the strict
    /// rotation of RFC 9700 section 4.14.2, the hardest case for a client, so the default. Off, the
    /// refresh token stays good and the answer carries none (Google's documented behaviour; Microsoft
    /// documents issuing a new refresh token without revoking the one used).
    /// </summary>
    public bool RotateRefreshTokens
    {
        get { lock (_authority.Gate) return _authority.RotateRefreshTokens; }
        set { lock (_authority.Gate) _authority.RotateRefreshTokens = value; }
    }

    /// <summary>Whether a rotated-away refresh token, presented again, revokes every refresh token of its line (RFC 9700 section 4.14.2). Default on.</summary>
    public bool RevokeFamilyOnRefreshTokenReuse
    {
        get { lock (_authority.Gate) return _authority.RevokeFamilyOnReuse; }
        set { lock (_authority.Gate) _authority.RevokeFamilyOnReuse = value; }
    }

    /// <summary>
    /// The user signed in to the "browser": the authorization endpoint approves as them (none: it
    /// answers <c>error=access_denied</c>), and so do device codes with <see cref="AutoApproveDeviceAfter"/>.
    /// Must be a user added with <see cref="AddUser"/>. Default none.
    /// </summary>
    public string? SignedInUser
    {
        get { lock (_authority.Gate) return _authority.SignedInUser; }
        set
        {
            lock (_authority.Gate)
            {
                if (value is not null && !_authority.HasUser(value))
                    throw new ArgumentException($"Unknown user {value}: AddUser first.", nameof(value));
                _authority.SignedInUser = value;
            }
        }
    }

    /// <summary>When set, a device code is approved as <see cref="SignedInUser"/> once it is that old (on the server's clock). Default none: approve with <see cref="ApproveDeviceCode"/>.</summary>
    public TimeSpan? AutoApproveDeviceAfter
    {
        get { lock (_authority.Gate) return _authority.AutoApproveDeviceAfter; }
        set
        {
            if (value is { } after)
                ArgumentOutOfRangeException.ThrowIfLessThan(after, TimeSpan.Zero, nameof(value));
            lock (_authority.Gate) _authority.AutoApproveDeviceAfter = value;
        }
    }

    /// <summary>The <c>user_code</c> of the latest device authorization, for a test to approve or deny; null before the first.</summary>
    public string? LastUserCode
    {
        get { lock (_authority.Gate) return _authority.LastUserCode; }
    }

    /// <summary>Registers a client: public (no secret, a native app) or confidential (with <paramref name="clientSecret"/>, sent in the body or with HTTP Basic).</summary>
    public void RegisterClient(string clientId, string? clientSecret = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(clientId);
        if (clientSecret is not null)
            ArgumentException.ThrowIfNullOrEmpty(clientSecret);
        lock (_authority.Gate) _authority.AddClient(new RegisteredClient(clientId, clientSecret));
    }

    /// <summary>Adds a user who can sign in (the POP3 user name their tokens are for).</summary>
    public void AddUser(string userName)
    {
        ArgumentException.ThrowIfNullOrEmpty(userName);
        lock (_authority.Gate) _authority.AddUser(userName);
    }

    /// <summary>Issues a refresh token without a sign-in, as if <paramref name="userName"/> had signed in to <paramref name="clientId"/> for <paramref name="scope"/>.</summary>
    public string IssueRefreshToken(string clientId, string userName, string scope)
    {
        ArgumentNullException.ThrowIfNull(scope);
        lock (_authority.Gate)
        {
            ThrowIfUnknown(clientId, userName);
            return _authority.Issue(new TokenFamily(clientId, userName, scope), scope, withRefreshToken: true).RefreshToken!;
        }
    }

    /// <summary>Issues an access token without a sign-in, good for <see cref="AccessTokenLifetime"/>.</summary>
    public string IssueAccessToken(string clientId, string userName, string scope)
    {
        ArgumentNullException.ThrowIfNull(scope);
        lock (_authority.Gate)
        {
            ThrowIfUnknown(clientId, userName);
            return _authority.Issue(new TokenFamily(clientId, userName, scope), scope, withRefreshToken: false).AccessToken;
        }
    }

    /// <summary>Approves a device authorization's user code as <paramref name="userName"/>: its next poll gets the tokens.</summary>
    /// <exception cref="ArgumentException">The user code or the user is not known.</exception>
    public void ApproveDeviceCode(string userCode, string userName)
    {
        lock (_authority.Gate)
        {
            if (!_authority.HasUser(userName))
                throw new ArgumentException($"Unknown user {userName}: AddUser first.", nameof(userName));
            FindDeviceGrant(userCode).ApprovedUser = userName;
        }
    }

    /// <summary>Denies a device authorization: its next poll gets <c>access_denied</c>.</summary>
    /// <exception cref="ArgumentException">The user code is not known.</exception>
    public void DenyDeviceCode(string userCode)
    {
        lock (_authority.Gate) FindDeviceGrant(userCode).Denied = true;
    }

    /// <summary>Revokes every refresh token of the user (a password change, an admin's revocation): each is <c>invalid_grant</c> from now on. Access tokens stay good until they expire, as with the real services.</summary>
    public void RevokeRefreshTokens(string userName)
    {
        lock (_authority.Gate) _authority.RevokeRefreshTokens(userName);
    }

    /// <summary>Revokes every access token of the user at once.</summary>
    public void RevokeAccessTokens(string userName)
    {
        lock (_authority.Gate) _authority.RevokeAccessTokens(userName);
    }

    /// <summary>
    /// Whether <paramref name="accessToken"/> was issued here for <paramref name="userName"/>, has not
    /// expired (on the server's clock) and is not revoked. Its signature fits
    /// <see cref="Pop3TestServerOptions.AccessTokenValidator"/>.
    /// </summary>
    public bool ValidateAccessToken(string userName, string accessToken)
    {
        lock (_authority.Gate)
        {
            return _authority.FindAccessToken(accessToken) is { } entry
                && entry.Family.User == userName
                && !entry.Revoked
                && _authority.Now < entry.ExpiresAt;
        }
    }

    /// <summary>How many requests reached <paramref name="endpoint"/> (well-formed or not, faulted or not).</summary>
    public int RequestCount(OAuth2Endpoint endpoint) => Volatile.Read(ref _requestCounts[Index(endpoint)]);

    /// <summary>The parameters of the last request to <paramref name="endpoint"/> (its form, or its query for the authorization endpoint), or null before the first.</summary>
    public IReadOnlyDictionary<string, string>? LastRequest(OAuth2Endpoint endpoint)
    {
        lock (_lastRequests) return _lastRequests[Index(endpoint)];
    }

    /// <summary>Makes <paramref name="endpoint"/> answer its next <paramref name="times"/> requests (by default every one, until <see cref="ClearFaults"/>) as <paramref name="fault"/> says.</summary>
    public void InjectFault(OAuth2Endpoint endpoint, OAuth2Fault fault, int times = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(fault);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(times);
        fault.Validate();
        lock (_faults) _faults[Index(endpoint)] = (fault, times);
    }

    /// <summary>Ends every injected fault.</summary>
    public void ClearFaults()
    {
        lock (_faults) Array.Clear(_faults);
    }

    /// <summary>Stops listening and ends every connection, hanging ones included.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_shutdown.IsCancellationRequested)
            return;
        await _shutdown.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        await _acceptLoop.ConfigureAwait(false);
        await Task.WhenAll(_connections.Keys).ConfigureAwait(false);
        _shutdown.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_shutdown.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_shutdown.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            Task connection = ServeAsync(socket, admitted: _connections.Count < _options.MaxConnections);
            _connections[connection] = true;
            _ = connection.ContinueWith(t => _connections.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private async Task ServeAsync(Socket socket, bool admitted)
    {
        await Task.Yield(); // off the accept loop
        using (socket)
        {
            var stream = new NetworkStream(socket, ownsSocket: false);
            await using System.Runtime.CompilerServices.ConfiguredAsyncDisposable disposeStream = stream.ConfigureAwait(false);
            try
            {
                (HttpResponse Response, OAuth2Fault? Fault)? answer = admitted
                    ? await ReadAndRouteAsync(stream).ConfigureAwait(false)
                    : (OAuth2Json.Error("temporarily_unavailable", "Too many connections.") with { Status = 503 }, null);
                if (answer is not { } reply)
                    return; // closed before a request
                await ResponseWriter.WriteAsync(stream, reply.Response, reply.Fault, _shutdown.Token).ConfigureAwait(false);
                socket.Shutdown(SocketShutdown.Both); // a FIN after the body: HTTP/1.1 with Connection: close
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The client went away, or the server is stopping.
            }
        }
    }

    /// <summary>The answer to the connection's one request, or null when it closed without one; the whole read within <see cref="OAuth2TestServerOptions.RequestTimeout"/>.</summary>
    private async Task<(HttpResponse Response, OAuth2Fault? Fault)?> ReadAndRouteAsync(Stream stream)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_shutdown.Token);
        timeout.CancelAfter(_options.RequestTimeout);
        try
        {
            return await HttpRequestReader.ReadAsync(stream, _options.MaxRequestHeadBytes, _options.MaxRequestBodyBytes, timeout.Token).ConfigureAwait(false) is { } request
                ? Route(request)
                : null;
        }
        catch (BadHttpRequestException e)
        {
            return (OAuth2Json.Error("invalid_request", e.Message) with { Status = e.Status }, null);
        }
        catch (OperationCanceledException) when (!_shutdown.IsCancellationRequested)
        {
            return (OAuth2Json.Error("invalid_request", "The request did not arrive in time.") with { Status = 408 }, null);
        }
    }

    private (HttpResponse Response, OAuth2Fault? Fault) Route(HttpRequest request)
    {
        OAuth2Endpoint? endpoint = request.Path switch
        {
            "/token" => OAuth2Endpoint.Token,
            "/devicecode" => OAuth2Endpoint.DeviceAuthorization,
            "/authorize" => OAuth2Endpoint.Authorization,
            _ => null,
        };
        if (endpoint is null)
        {
            return request.Path == "/device"
                ? (HttpResponse.Html(200, "<html><body><h1>Enter the code shown by your device.</h1></body></html>"), null)
                : (OAuth2Json.Error("invalid_request", "No such endpoint.") with { Status = 404 }, null);
        }

        int index = Index(endpoint.Value);
        Interlocked.Increment(ref _requestCounts[index]);
        bool isGet = endpoint == OAuth2Endpoint.Authorization;
        Dictionary<string, string> parameters;
        bool wellFormed = isGet ? HttpRequest.TryParseForm(request.Query, out parameters) : request.TryReadForm(out parameters);
        lock (_lastRequests) _lastRequests[index] = parameters;
        OAuth2Fault? fault = TakeFault(index);

        if (request.Method != (isGet ? "GET" : "POST"))
            return (OAuth2Json.Error("invalid_request", $"Use {(isGet ? "GET" : "POST")}.") with { Status = 405 }, fault);
        if (!wellFormed)
        {
            return (isGet
                ? HttpResponse.Html(400, "<html><body><h1>Malformed query: a parameter is given twice.</h1></body></html>")
                : OAuth2Json.Error("invalid_request", "The body must be application/x-www-form-urlencoded, each parameter once."), fault);
        }

        // Faults that replace the answer do not run the grant: nothing is issued or used up.
        if (fault is GarbageJsonFault or HugeJsonBodyFault or RedirectFault or ServerErrorHtmlFault or NeverRespondFault)
            return (HttpResponse.Json(200, []), fault);
        HttpResponse response = endpoint switch
        {
            OAuth2Endpoint.Token => _token.Handle(request, parameters),
            OAuth2Endpoint.DeviceAuthorization => _deviceAuthorization.Handle(request, parameters),
            _ => _authorization.Handle(parameters),
        };
        return (response, fault);
    }

    private OAuth2Fault? TakeFault(int index)
    {
        lock (_faults)
        {
            if (_faults[index] is not { } entry)
                return null;
            _faults[index] = entry.Remaining == int.MaxValue ? entry : entry.Remaining > 1 ? (entry.Fault, entry.Remaining - 1) : null;
            return entry.Fault;
        }
    }

    private void ThrowIfUnknown(string clientId, string userName)
    {
        if (_authority.FindClient(clientId) is null)
            throw new ArgumentException($"Unknown client {clientId}: RegisterClient first.", nameof(clientId));
        if (!_authority.HasUser(userName))
            throw new ArgumentException($"Unknown user {userName}: AddUser first.", nameof(userName));
    }

    private DeviceGrant FindDeviceGrant(string userCode)
    {
        ArgumentException.ThrowIfNullOrEmpty(userCode);
        return _authority.FindDeviceGrantByUserCode(userCode) ?? throw new ArgumentException("Unknown user code.", nameof(userCode));
    }

    private static int Index(OAuth2Endpoint endpoint) => Enum.IsDefined(endpoint)
        ? (int)endpoint
        : throw new ArgumentOutOfRangeException(nameof(endpoint), endpoint, "Unknown endpoint.");
}
