namespace Poplib.Testing.Protocol;

/// <summary>What CAPA lists (RFC 2449). Like real servers, the list changes with the session: no STLS once encrypted, no login methods once logged in.</summary>
internal static class Capabilities
{
    public static IEnumerable<string> For(Pop3TestServerOptions options, bool authenticated, bool encrypted)
    {
        yield return "TOP";
        yield return "UIDL";
        yield return "RESP-CODES";
        yield return "AUTH-RESP-CODE";
        yield return "PIPELINING";
        if (!authenticated)
        {
            bool plaintext = encrypted || options.AllowPlaintextWithoutTls;
            if (plaintext)
                yield return "USER";
            if (SaslNames(options, plaintext) is { Count: > 0 } sasl)
                yield return "SASL " + string.Join(' ', sasl);

            if (options.Tls == Pop3TlsMode.StartTls && !encrypted)
                yield return "STLS";

            // RFC 6856: "USER" says USER/PASS take UTF-8 after the UTF8 command.
            yield return "UTF8 USER";
        }

        yield return "IMPLEMENTATION " + options.Implementation;
    }

    /// <summary>The mechanisms AUTH takes now: PLAIN only where plaintext logins are allowed.</summary>
    public static List<string> SaslNames(Pop3TestServerOptions options, bool plaintextAllowed)
    {
        var names = new List<string>(5);
        if (plaintextAllowed && options.SaslMechanisms.HasFlag(Pop3SaslMechanisms.Plain))
            names.Add("PLAIN");
        // Bearer tokens are secrets sent as they are: offered where PLAIN would be.
        if (plaintextAllowed && options.SaslMechanisms.HasFlag(Pop3SaslMechanisms.XOAuth2))
            names.Add("XOAUTH2");
        if (plaintextAllowed && options.SaslMechanisms.HasFlag(Pop3SaslMechanisms.OAuthBearer))
            names.Add("OAUTHBEARER");
        if (options.SaslMechanisms.HasFlag(Pop3SaslMechanisms.Gssapi))
            names.Add("GSSAPI");
        if (options.SaslMechanisms.HasFlag(Pop3SaslMechanisms.Ntlm))
            names.Add("NTLM");
        return names;
    }
}
