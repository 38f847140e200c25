using Poplib.Sasl;

namespace Poplib.Fetch.Connection;

/// <summary>
/// The login methods an account can name (<c>auth</c> in a config, <c>--auth</c> at the shell), one
/// table for the command line and the library, so that both accept the same names and log in alike.
/// </summary>
internal static class LoginMethods
{
    /// <summary>Every name accepted, for messages: <c>auto</c> lets <see cref="Pop3Client.LoginAsync(string, string, CancellationToken)"/> choose.</summary>
    public const string Names = "auto, user, apop, plain, login, cram-md5, scram-sha-1, scram-sha-256, ntlm, gssapi, xoauth2, oauthbearer";

    /// <summary>Whether <paramref name="method"/> is one of <see cref="Names"/> (or RFC 2384's <c>*</c> and <c>+APOP</c>), in any case.</summary>
    public static bool IsKnown(string method) => method.ToUpperInvariant() is
        "AUTO" or "*" or "+APOP" or "USER" or "APOP" or "PLAIN" or "LOGIN" or "CRAM-MD5" or "SCRAM-SHA-1" or "SCRAM-SHA-256" or "NTLM" or "GSSAPI" or "XOAUTH2" or "OAUTHBEARER";

    /// <summary>Logs in by <paramref name="method"/>; throws <see cref="ArgumentException"/> for a name not in <see cref="Names"/>.</summary>
    public static Task<Pop3Response> LoginAsync(Pop3Client client, string method, string user, string password, CancellationToken cancellationToken)
    {
        switch (method.ToUpperInvariant())
        {
            case "AUTO" or "*": // RFC 2384: ";AUTH=*" lets the client choose
                return client.LoginAsync(user, password, cancellationToken);
            case "APOP" or "+APOP": // "+APOP" is RFC 2384's name for it
                return client.ApopAsync(user, password, cancellationToken);
            case "USER":
                return client.LoginUserPassAsync(user, password, cancellationToken);
            case "NTLM":
                return NegotiateAsync(client, new SaslNtlm(user, password), cancellationToken);
            case "GSSAPI": // a ticket got with the password (the ticket cache needs no password: Auth(new SaslGssapi()))
                return NegotiateAsync(client, new SaslGssapi(user, password), cancellationToken);
            default:
                ISaslMechanism mechanism = method.ToUpperInvariant() switch
                {
                    "PLAIN" => new SaslPlain(user, password),
                    "LOGIN" => new SaslLogin(user, password),
                    "CRAM-MD5" => new SaslCramMd5(user, password),
                    "SCRAM-SHA-1" => new SaslScramSha1(user, password),
                    "SCRAM-SHA-256" => new SaslScramSha256(user, password),
                    "XOAUTH2" => new SaslXOAuth2(user, password),
                    "OAUTHBEARER" => new SaslOAuthBearer(user, password, client.Host, client.Port),
                    _ => throw new ArgumentException($"unknown login method '{method}' ({Names})", nameof(method)),
                };
                return client.AuthAsync(mechanism, cancellationToken);
        }
    }

    /// <summary>Logs in with access tokens: <paramref name="method"/> <c>xoauth2</c>, <c>oauthbearer</c>, or <c>auto</c> (the server's choice).</summary>
    public static Task<Pop3Response> LoginAsync(Pop3Client client, string method, string user, IOAuth2TokenSource accessTokens, CancellationToken cancellationToken) =>
        method.ToUpperInvariant() switch
        {
            "AUTO" or "*" => client.LoginAsync(user, accessTokens, cancellationToken),
            "XOAUTH2" or "OAUTHBEARER" => client.LoginAsync(user, accessTokens, method, cancellationToken),
            _ => throw new ArgumentException($"login method '{method}' does not take OAuth 2.0 access tokens: use xoauth2 or oauthbearer", nameof(method)),
        };

    // Their security context holds native handles: released when the exchange is over.
    private static async Task<Pop3Response> NegotiateAsync(Pop3Client client, SaslNegotiateMechanism mechanism, CancellationToken cancellationToken)
    {
        using (mechanism)
            return await client.AuthAsync(mechanism, cancellationToken).ConfigureAwait(false);
    }
}
