using System.Buffers.Text;
using System.Security.Cryptography;

namespace Poplib.Testing.OAuth.Authority;

/// <summary>
/// What the authorization server knows: clients, users, codes, device grants and tokens, behind one
/// lock (a test server's traffic is small; one lock keeps every grant's checks and effects atomic).
/// The endpoints decide; this remembers and mints.
/// </summary>
internal sealed class OAuth2Authority(TimeProvider clock)
{
    private readonly Dictionary<string, RegisteredClient> _clients = new(StringComparer.Ordinal);
    private readonly HashSet<string> _users = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RefreshTokenEntry> _refreshTokens = new(StringComparer.Ordinal);
    private readonly Dictionary<string, AccessTokenEntry> _accessTokens = new(StringComparer.Ordinal);
    private readonly Dictionary<string, AuthorizationCodeEntry> _codes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DeviceGrant> _deviceGrants = new(StringComparer.Ordinal);

    public object Gate { get; } = new();

    public TimeProvider Clock { get; } = clock;

    public DateTimeOffset Now => Clock.GetUtcNow();

    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    public int AccessTokenLength { get; set; } = 64;

    public TimeSpan? RefreshTokenLifetime { get; set; }

    public bool RotateRefreshTokens { get; set; } = true;

    public bool RevokeFamilyOnReuse { get; set; } = true;

    public string? SignedInUser { get; set; }

    public TimeSpan? AutoApproveDeviceAfter { get; set; }

    public string? LastUserCode { get; private set; }

    public void AddClient(RegisteredClient client) => _clients[client.Id] = client;

    public RegisteredClient? FindClient(string id) => _clients.GetValueOrDefault(id);

    public void AddUser(string user) => _users.Add(user);

    public bool HasUser(string user) => _users.Contains(user);

    public RefreshTokenEntry? FindRefreshToken(string token) => _refreshTokens.GetValueOrDefault(token);

    public AccessTokenEntry? FindAccessToken(string token) => _accessTokens.GetValueOrDefault(token);

    public void AddCode(string code, AuthorizationCodeEntry entry) => _codes[code] = entry;

    public AuthorizationCodeEntry? FindCode(string code) => _codes.GetValueOrDefault(code);

    public DeviceGrant NewDeviceGrant(string clientId, string scope, TimeSpan lifetime, TimeSpan interval)
    {
        var grant = new DeviceGrant(NewSecret(32), NewUserCode(), clientId, scope, Now, Now + lifetime, interval);
        _deviceGrants[grant.DeviceCode] = grant;
        LastUserCode = grant.UserCode;
        return grant;
    }

    public DeviceGrant? FindDeviceGrant(string deviceCode) => _deviceGrants.GetValueOrDefault(deviceCode);

    public DeviceGrant? FindDeviceGrantByUserCode(string userCode)
    {
        string normalized = NormalizeUserCode(userCode);
        return _deviceGrants.Values.FirstOrDefault(g => NormalizeUserCode(g.UserCode) == normalized);
    }

    /// <summary>Mints an access token, and a refresh token in the family unless <paramref name="withRefreshToken"/> is false.</summary>
    public IssuedTokens Issue(TokenFamily family, string scope, bool withRefreshToken)
    {
        string accessToken = NewSecret(Math.Max(AccessTokenLength, 16));
        _accessTokens[accessToken] = new AccessTokenEntry(family, scope, Now + AccessTokenLifetime);
        string? refreshToken = null;
        if (withRefreshToken)
        {
            refreshToken = NewSecret(48);
            _refreshTokens[refreshToken] = new RefreshTokenEntry(family, Now);
        }

        return new IssuedTokens(accessToken, AccessTokenLifetime, refreshToken, scope);
    }

    public bool IsExpired(RefreshTokenEntry entry) => RefreshTokenLifetime is { } lifetime && Now >= entry.IssuedAt + lifetime;

    public void RevokeRefreshTokens(string user)
    {
        foreach (RefreshTokenEntry entry in _refreshTokens.Values.Where(e => e.Family.User == user))
            entry.Family.Revoked = true;
    }

    public void RevokeAccessTokens(string user)
    {
        foreach (AccessTokenEntry entry in _accessTokens.Values.Where(e => e.Family.User == user))
            entry.Revoked = true;
    }

    /// <summary>
    /// Opaque random tokens of the given length (base64url): a length of 2,000 or more gives the size
    /// of Microsoft's JWTs, which is what pushes XOAUTH2 past an AUTH line's 255 octets.
    /// </summary>
    public static string NewSecret(int length) =>
        Base64Url.EncodeToString(RandomNumberGenerator.GetBytes((length * 3 / 4) + 3))[..length];

    // RFC 8628 section 6.1: 8 characters from 20 consonants, shown as XXXX-XXXX (about 34 bits).
    private static string NewUserCode()
    {
        const string Alphabet = "BCDFGHJKLMNPQRSTVWXZ";
        string code = RandomNumberGenerator.GetString(Alphabet, 8);
        return code[..4] + "-" + code[4..];
    }

    private static string NormalizeUserCode(string code) => code.Replace("-", "", StringComparison.Ordinal).ToUpperInvariant();
}
