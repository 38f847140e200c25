using System.Text.Json;

namespace Poplib.Fetch.OAuth;

/// <summary>
/// Access tokens for one account from its stored sign-in (<see cref="OAuth2TokenStore"/>): the cached
/// token while it has more than <see cref="RefreshingOAuth2TokenSourceOptions.ExpiryMargin"/> to live,
/// else a new one from the token endpoint with the refresh token (RFC 6749 section 6). A refresh token
/// the server rotates is written to the store — atomically and durably — before the new access token
/// is handed out, so a kill at any moment leaves a refresh token in the file that the server issued.
/// One refresh at a time per account: within the process by a lock, across processes by a lock file,
/// after which the file is read again (another process may have refreshed already).
/// </summary>
public sealed class RefreshingOAuth2TokenSource : IOAuth2TokenSource, IDisposable
{
    private static readonly TimeSpan LockPoll = TimeSpan.FromMilliseconds(50);
    // Without expires_in the token's life is unknown: reused only briefly.
    private static readonly TimeSpan UnknownLifetime = TimeSpan.FromMinutes(5);

    private readonly OAuth2TokenStore _store;
    private readonly string _account;
    private readonly RefreshingOAuth2TokenSourceOptions _options;
    private readonly OAuth2Http _http;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private (string Value, DateTimeOffset Expires)? _cached;
    private string? _refused;

    /// <param name="store">Where the account's grant is.</param>
    /// <param name="account">The account's name in the store.</param>
    /// <param name="options">Client secret, limits, clock; null: the defaults.</param>
    public RefreshingOAuth2TokenSource(OAuth2TokenStore store, string account, RefreshingOAuth2TokenSourceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentException.ThrowIfNullOrWhiteSpace(account);
        _store = store;
        _account = account;
        _options = options ?? new RefreshingOAuth2TokenSourceOptions();
        _http = new OAuth2Http(_options.Http);
    }

    /// <summary>How many times this source used the refresh token (for tests and diagnostics).</summary>
    public int RefreshCount { get; private set; }

    /// <inheritdoc/>
    /// <exception cref="OAuth2Exception">No sign-in, a sign-in no longer valid (<see cref="OAuth2Exception.SignInRequired"/>), or the server failed.</exception>
    public OAuth2AccessToken GetAccessToken(CancellationToken cancellationToken = default)
    {
        ValueTask<OAuth2AccessToken> task = GetCoreAsync(async: false, cancellationToken);
        return task.IsCompleted ? task.Result : task.AsTask().GetAwaiter().GetResult();
    }

    /// <inheritdoc cref="GetAccessToken"/>
    public Task<OAuth2AccessToken> GetAccessTokenAsync(CancellationToken cancellationToken = default) =>
        GetCoreAsync(async: true, cancellationToken).AsTask();

    /// <inheritdoc/>
    public bool Invalidate(OAuth2AccessToken refused)
    {
        _gate.Wait();
        try
        {
            _refused = refused.Value;
            if (_cached?.Value == refused.Value)
                _cached = null;
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async ValueTask<OAuth2AccessToken> GetCoreAsync(bool async, CancellationToken cancellationToken)
    {
        if (async)
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        else
            _gate.Wait(cancellationToken);
        try
        {
            if (_cached is { } cached && IsFresh(cached.Value, cached.Expires))
                return new OAuth2AccessToken(cached.Value);

            OAuth2Grant grant = LoadGrant();
            if (grant.AccessToken is { } stored && grant.AccessTokenExpires is { } expires && IsFresh(stored, expires))
                return Cache(stored, expires);

            using FileStream held = await LockAsync(async, cancellationToken).ConfigureAwait(false);
            // Another process may have refreshed while we waited for the lock.
            grant = LoadGrant();
            if (grant.AccessToken is { } other && grant.AccessTokenExpires is { } otherExpires && IsFresh(other, otherExpires))
                return Cache(other, otherExpires);
            OAuth2Grant refreshed = await RefreshAsync(grant, async, cancellationToken).ConfigureAwait(false);
            // Written before the token is used: a rotated refresh token is never lost to a crash after this point.
            _store.Save(_account, refreshed);
            return Cache(refreshed.AccessToken!, refreshed.AccessTokenExpires!.Value);
        }
        finally
        {
            _gate.Release();
        }
    }

    private bool IsFresh(string token, DateTimeOffset expires) =>
        token != _refused && expires - _options.ExpiryMargin > _options.TimeProvider.GetUtcNow();

    private OAuth2AccessToken Cache(string token, DateTimeOffset expires)
    {
        _cached = (token, expires);
        return new OAuth2AccessToken(token);
    }

    private OAuth2Grant LoadGrant() => _store.Load(_account) ?? throw new OAuth2Exception(
        $"there is no OAuth 2.0 sign-in for {_account}{Hint()}") { SignInMissing = true };

    private string Hint() => _options.SignInHint is { } hint ? ": " + hint : "";

    private async ValueTask<OAuth2Grant> RefreshAsync(OAuth2Grant grant, bool async, CancellationToken cancellationToken)
    {
        var form = new List<KeyValuePair<string, string>>
        {
            new("grant_type", "refresh_token"),
            new("refresh_token", grant.RefreshToken),
            new("client_id", grant.ClientId),
            new("scope", string.Join(' ', grant.Scopes)),
        };
        if ((_options.ClientSecret ?? grant.ClientSecret) is { Length: > 0 } secret)
            form.Add(new("client_secret", secret));

        DateTimeOffset asked = _options.TimeProvider.GetUtcNow();
        JsonElement answer;
        try
        {
            RefreshCount++;
            answer = await _http.PostFormAsync(grant.TokenEndpoint, form, async, cancellationToken).ConfigureAwait(false);
        }
        catch (OAuth2Exception e) when (e.SignInRequired)
        {
            throw new OAuth2Exception($"the OAuth 2.0 sign-in of {_account} is no longer valid: {e.Message}{Hint()}", e.Error, e);
        }

        OAuth2TokenResponse token = OAuth2TokenResponse.From(answer, grant.TokenEndpoint);
        return grant with
        {
            // RFC 6749 section 6: a new refresh token replaces the old one; none means keep the old one.
            RefreshToken = token.RefreshToken ?? grant.RefreshToken,
            AccessToken = token.AccessToken,
            AccessTokenExpires = asked + (token.ExpiresIn ?? UnknownLifetime),
            Scopes = token.Scopes ?? grant.Scopes,
            Refreshed = asked,
        };
    }

    // The lock file is held while the refresh token is in use, so that two processes never spend the same
    // one (a server that rotates would revoke the loser's). It is released when the process ends, killed or not.
    private async ValueTask<FileStream> LockAsync(bool async, CancellationToken cancellationToken)
    {
        StrictModes.RequirePrivateDirectory(_store.Directory, "the OAuth token folder");
        string path = _store.LockPathOf(_account);
        TimeSpan patience = _options.Http.Timeout * 2;
        DateTimeOffset giveUp = _options.TimeProvider.GetUtcNow() + patience;
        while (true)
        {
            if (PrivateFiles.OpenLock(path) is { } held)
                return held;
            if (_options.TimeProvider.GetUtcNow() > giveUp)
                throw new OAuth2Exception($"another process held the token lock of {_account} for over {patience.TotalSeconds:0} s");
            if (async)
                await Task.Delay(LockPoll, cancellationToken).ConfigureAwait(false);
            else
                cancellationToken.WaitHandle.WaitOne(LockPoll);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>Names the account only.</summary>
    public override string ToString() => $"RefreshingOAuth2TokenSource({_account})";

    /// <inheritdoc/>
    public void Dispose()
    {
        _http.Dispose();
        _gate.Dispose();
    }
}
