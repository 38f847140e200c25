using System.Buffers;
using System.Net.Security;
using Poplib.Testing.Tls;

namespace Poplib.Testing.Protocol;

/// <summary>
/// AUTH NTLM ([MS-POP3]) and AUTH GSSAPI (RFC 4752), the server's side, on the platform's acceptor
/// (<see cref="NegotiateAuthentication"/>): the credentials are checked there, not here.
/// </summary>
internal sealed partial class Pop3Session
{
    // NTLM has two client messages, Kerberos one or two; a client that goes on is refused.
    private const int MaxNegotiateRounds = 4;

    // RFC 4752 section 3.1: the one security layer offered, "none", with a maximum message size of 0.
    private static readonly byte[] NoSecurityLayerOffer = [1, 0, 0, 0];

    private async ValueTask AuthNegotiateAsync(Pop3Request request, bool gssapi)
    {
        // [MS-POP3] 2.2: AUTH NTLM carries no initial response; RFC 4752 allows one (RFC 5034).
        if (!gssapi && request.Arguments.Length > 1)
        {
            await _writer.LineAsync("-ERR [AUTH] AUTH NTLM takes no initial response.").ConfigureAwait(false);
            return;
        }

        using ServerEndPointBinding? binding = IsEncrypted ? ServerEndPointBinding.For(_server.Certificate) : null;
        using var context = new NegotiateAuthentication(new NegotiateAuthenticationServerOptions
        {
            Package = gssapi ? "Kerberos" : "NTLM",
            // Kerberos' acceptor checks a binding it is given; NTLM's on Linux does not (see NtlmChannelBinding).
            Binding = _options.RequireChannelBinding ? binding : null,
            RequiredProtectionLevel = ProtectionLevel.None,
        });

        string? response = request.Arguments.Length > 1 ? request.Arguments[1] : await ReadSaslResponseAsync().ConfigureAwait(false);
        for (int round = 0; ; round++)
        {
            if (!TryDecodeResponse(response, out byte[] token, out string? refusal))
            {
                if (refusal is not null)
                    await _writer.LineAsync(refusal).ConfigureAwait(false);
                return;
            }

            if (round == MaxNegotiateRounds)
            {
                await _writer.LineAsync(AuthenticationFailed).ConfigureAwait(false);
                return;
            }

            // The client's second NTLM message is its AUTHENTICATE message, the one that carries the binding.
            if (!gssapi && round == 1 && _options.RequireChannelBinding && binding is not null && !NtlmChannelBinding.IsBoundTo(token, binding.ApplicationData))
            {
                await _writer.LineAsync(AuthenticationFailed).ConfigureAwait(false);
                return;
            }

            byte[]? output = context.GetOutgoingBlob(token, out NegotiateAuthenticationStatusCode status);
            if (status == NegotiateAuthenticationStatusCode.ContinueNeeded)
            {
                response = await ReadSaslResponseAsync(Convert.ToBase64String(output ?? [])).ConfigureAwait(false);
                continue;
            }

            if (status != NegotiateAuthenticationStatusCode.Completed)
            {
                await _writer.LineAsync(AuthenticationFailed).ConfigureAwait(false);
                return;
            }

            if (gssapi && !await NegotiateSecurityLayerAsync(context, output).ConfigureAwait(false))
                return;
            break;
        }

        string principal = context.RemoteIdentity.Name ?? "";
        await LogInAsync(LocalUserName(principal), _ => true).ConfigureAwait(false);
    }

    // RFC 4752 section 3.1, the server's side: the last Kerberos token (the AP-REP, when the client
    // asked for mutual authentication) and the client's empty answer, then the wrapped offer and the
    // client's wrapped choice.
    private async ValueTask<bool> NegotiateSecurityLayerAsync(NegotiateAuthentication context, byte[]? lastToken)
    {
        if (lastToken is { Length: > 0 })
        {
            string? empty = await ReadSaslResponseAsync(Convert.ToBase64String(lastToken)).ConfigureAwait(false);
            if (!TryDecodeResponse(empty, out byte[] nothing, out string? refusal) || nothing.Length != 0)
            {
                await _writer.LineAsync(refusal ?? AuthenticationFailed).ConfigureAwait(false);
                return false;
            }
        }

        var offer = new ArrayBufferWriter<byte>();
        if (context.Wrap(NoSecurityLayerOffer, offer, requestEncryption: false, out _) != NegotiateAuthenticationStatusCode.Completed)
        {
            await _writer.LineAsync(AuthenticationFailed).ConfigureAwait(false);
            return false;
        }

        string? answer = await ReadSaslResponseAsync(Convert.ToBase64String(offer.WrittenSpan)).ConfigureAwait(false);
        if (!TryDecodeResponse(answer, out byte[] wrapped, out string? cancelled))
        {
            if (cancelled is not null)
                await _writer.LineAsync(cancelled).ConfigureAwait(false);
            return false;
        }

        var choice = new ArrayBufferWriter<byte>();
        bool valid = context.Unwrap(wrapped, choice, out _) == NegotiateAuthenticationStatusCode.Completed
            && choice.WrittenCount >= 4
            && choice.WrittenSpan[0] == NoSecurityLayerOffer[0]
            && choice.WrittenSpan[1..4].IndexOfAnyExcept((byte)0) < 0;
        // An authorization identity other than the principal's own is not supported (no administrators here).
        string authorizationId = valid ? System.Text.Encoding.UTF8.GetString(choice.WrittenSpan[4..]) : "";
        if (!valid || (authorizationId.Length > 0 && authorizationId != context.RemoteIdentity.Name && authorizationId != LocalUserName(context.RemoteIdentity.Name ?? "")))
        {
            await _writer.LineAsync(AuthenticationFailed).ConfigureAwait(false);
            return false;
        }

        return true;
    }

    // "*" cancels (RFC 5034), a line that is not base64 is refused; a vanished client ends it all.
    private static bool TryDecodeResponse(string? response, out byte[] token, out string? refusal)
    {
        token = [];
        refusal = null;
        if (response is null)
            return false;
        if (response == "*")
        {
            refusal = "-ERR Authentication cancelled.";
            return false;
        }

        try
        {
            token = Convert.FromBase64String(response);
            return true;
        }
        catch (FormatException)
        {
            refusal = "-ERR [AUTH] The response is not base64.";
            return false;
        }
    }

    // DOMAIN\user (NTLM) and user@REALM (Kerberos) log in as "user" unless a user has the full name.
    private string LocalUserName(string principal)
    {
        if (_server.FindUser(principal) is not null)
            return principal;
        int slash = principal.IndexOf('\\', StringComparison.Ordinal);
        if (slash >= 0)
            return principal[(slash + 1)..];
        int at = principal.LastIndexOf('@');
        return at > 0 ? principal[..at] : principal;
    }
}
