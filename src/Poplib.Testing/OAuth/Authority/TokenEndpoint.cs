using Poplib.Testing.OAuth.Http;

namespace Poplib.Testing.OAuth.Authority;

/// <summary>
/// <c>POST /token</c>: the refresh token grant with rotation and replay detection (RFC 6749 section 6,
/// RFC 9700 section 4.14.2), the authorization code grant with PKCE (RFC 7636) and the device code
/// grant (RFC 8628 section 3.4).
/// </summary>
internal sealed class TokenEndpoint(OAuth2Authority authority)
{
    private const string DeviceCodeGrant = "urn:ietf:params:oauth:grant-type:device_code";

    public HttpResponse Handle(HttpRequest request, Dictionary<string, string> form)
    {
        lock (authority.Gate)
        {
            (RegisteredClient? client, HttpResponse? error) = ClientAuthentication.Authenticate(authority, request, form);
            if (client is null)
                return error!;
            return form.GetValueOrDefault("grant_type") switch
            {
                null or "" => OAuth2Json.Error("invalid_request", "grant_type is missing."),
                "refresh_token" => RefreshToken(client, form),
                "authorization_code" => AuthorizationCode(client, form),
                DeviceCodeGrant => DeviceCode(client, form),
                _ => OAuth2Json.Error("unsupported_grant_type", "This server grants refresh_token, authorization_code and device_code."),
            };
        }
    }

    private HttpResponse RefreshToken(RegisteredClient client, Dictionary<string, string> form)
    {
        if (!form.TryGetValue("refresh_token", out string? token) || token.Length == 0)
            return OAuth2Json.Error("invalid_request", "refresh_token is missing.");
        if (authority.FindRefreshToken(token) is not { } entry || entry.Family.ClientId != client.Id)
            return OAuth2Json.Error("invalid_grant", "The refresh token is not known.");
        if (entry.Family.Revoked)
            return OAuth2Json.Error("invalid_grant", "The refresh token was revoked. Sign in again.");
        if (entry.Used)
        {
            // A rotated-away token came back: it was stolen, or the client lost the new one. Either way
            // the family can no longer be trusted (RFC 9700 section 4.14.2).
            if (authority.RevokeFamilyOnReuse)
                entry.Family.Revoked = true;
            return OAuth2Json.Error("invalid_grant", "The refresh token was already used.");
        }

        if (authority.IsExpired(entry))
            return OAuth2Json.Error("invalid_grant", "The refresh token has expired. Sign in again.");

        string scope = entry.Family.Scope;
        if (form.TryGetValue("scope", out string? requested) && requested.Length > 0)
        {
            // Section 6: a narrower scope may be asked for, never a wider one.
            HashSet<string> granted = [.. Scopes(entry.Family.Scope)];
            if (!Scopes(requested).All(granted.Contains))
                return OAuth2Json.Error("invalid_scope", "The scope exceeds what was granted.");
            scope = string.Join(' ', Scopes(requested));
        }

        if (authority.RotateRefreshTokens)
        {
            entry.Used = true;
            return OAuth2Json.Token(authority.Issue(entry.Family, scope, withRefreshToken: true));
        }

        // Without rotation the refresh token stays valid and is not repeated, as Google answers.
        return OAuth2Json.Token(authority.Issue(entry.Family, scope, withRefreshToken: false));
    }

    private HttpResponse AuthorizationCode(RegisteredClient client, Dictionary<string, string> form)
    {
        if (!form.TryGetValue("code", out string? code) || code.Length == 0)
            return OAuth2Json.Error("invalid_request", "code is missing.");
        if (authority.FindCode(code) is not { } entry || entry.ClientId != client.Id)
            return OAuth2Json.Error("invalid_grant", "The authorization code is not known.");
        if (entry.Used)
        {
            // Section 4.1.2: a code used twice revokes what its first use issued.
            if (entry.IssuedFamily is { } issued)
                issued.Revoked = true;
            return OAuth2Json.Error("invalid_grant", "The authorization code was already used.");
        }

        entry.Used = true; // one attempt per code, whether or not it succeeds: no guessing of verifiers
        if (authority.Now >= entry.ExpiresAt)
            return OAuth2Json.Error("invalid_grant", "The authorization code has expired.");
        if (form.GetValueOrDefault("redirect_uri") != entry.RedirectUri)
            return OAuth2Json.Error("invalid_grant", "redirect_uri does not match the authorization request's.");
        if (!form.TryGetValue("code_verifier", out string? verifier) || !Pkce.Verify(verifier, entry.CodeChallenge))
            return OAuth2Json.Error("invalid_grant", "PKCE verification failed: code_verifier does not match code_challenge.");

        entry.IssuedFamily = new TokenFamily(client.Id, entry.User, entry.Scope);
        return OAuth2Json.Token(authority.Issue(entry.IssuedFamily, entry.Scope, withRefreshToken: true));
    }

    private HttpResponse DeviceCode(RegisteredClient client, Dictionary<string, string> form)
    {
        if (!form.TryGetValue("device_code", out string? deviceCode) || deviceCode.Length == 0)
            return OAuth2Json.Error("invalid_request", "device_code is missing.");
        if (authority.FindDeviceGrant(deviceCode) is not { } grant || grant.ClientId != client.Id || grant.Consumed)
            return OAuth2Json.Error("invalid_grant", "The device code is not known.");

        DateTimeOffset now = authority.Now;
        if (now >= grant.ExpiresAt)
            return OAuth2Json.Error("expired_token", "The device code has expired. Start again.");
        if (grant.Denied)
            return OAuth2Json.Error("access_denied", "The user declined the authorization request.");
        if (grant.ApprovedUser is null && authority.AutoApproveDeviceAfter is { } after && authority.SignedInUser is { } user && now - grant.CreatedAt >= after)
            grant.ApprovedUser = user;

        if (grant.ApprovedUser is { } approved)
        {
            grant.Consumed = true;
            return OAuth2Json.Token(authority.Issue(new TokenFamily(client.Id, approved, grant.Scope), grant.Scope, withRefreshToken: true));
        }

        bool tooSoon = grant.LastPoll is { } last && now - last < grant.Interval;
        grant.LastPoll = now;
        if (tooSoon)
        {
            grant.Interval += TimeSpan.FromSeconds(5);
            return OAuth2Json.Error("slow_down", $"Polled faster than the interval; poll every {(long)grant.Interval.TotalSeconds} seconds.");
        }

        return OAuth2Json.Error("authorization_pending", "The user has not yet approved the request.");
    }

    private static string[] Scopes(string scope) => scope.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
