using System.Text;

namespace Poplib.Testing.Protocol;

/// <summary>AUTH XOAUTH2 and AUTH OAUTHBEARER: a bearer token checked by <see cref="Pop3TestServerOptions.AccessTokenValidator"/>.</summary>
internal sealed partial class Pop3Session
{
    private async ValueTask AuthOAuthAsync(Pop3Request request, string mechanism)
    {
        string? response;
        if (request.Arguments.Length > 1)
        {
            if (_options.OAuthInitialResponse == Pop3InitialResponse.RefusedClosingConnection)
            {
                // Microsoft 365's answer to "AUTH XOAUTH2 <initial response>" (getmail6 issue 256).
                await _writer.LineAsync("-ERR Protocol error. Connection is closed. 10").ConfigureAwait(false);
                _state = SessionState.Closed;
                return;
            }

            response = request.Arguments[1];
        }
        else
        {
            response = await ReadSaslResponseAsync().ConfigureAwait(false);
        }

        if (response is null)
            return;
        if (response == "*")
        {
            await _writer.LineAsync("-ERR Authentication cancelled.").ConfigureAwait(false);
            return;
        }

        if (!OAuthSaslMessage.TryParse(mechanism, response, out string name, out string token))
        {
            await _writer.LineAsync($"-ERR [AUTH] Invalid SASL {mechanism} response.").ConfigureAwait(false);
            return;
        }

        if (_server.FindUser(name) is not null && _options.AccessTokenValidator?.Invoke(name, token) == true)
        {
            await LogInAsync(name, _ => true).ConfigureAwait(false);
            return;
        }

        if (_options.OAuthErrorChallenge)
        {
            // The error travels as a challenge; the server may only fail once the client has acknowledged it.
            string json = OAuthSaslMessage.ErrorJson(mechanism, _options.OAuthScope);
            string? acknowledgement = await ReadSaslResponseAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes(json))).ConfigureAwait(false);
            if (acknowledgement is null)
                return;
            if (!OAuthSaslMessage.IsErrorAcknowledgement(mechanism, acknowledgement))
            {
                await _writer.LineAsync($"-ERR [AUTH] Invalid SASL {mechanism} error acknowledgement; authentication failed.").ConfigureAwait(false);
                return;
            }
        }

        await _writer.LineAsync(AuthenticationFailed).ConfigureAwait(false);
    }
}
