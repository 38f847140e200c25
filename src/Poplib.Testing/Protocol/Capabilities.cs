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
            if (encrypted || options.AllowPlaintextWithoutTls)
            {
                yield return "USER";
                yield return "SASL PLAIN";
            }

            if (options.Tls == Pop3TlsMode.StartTls && !encrypted)
                yield return "STLS";

            // RFC 6856: "USER" says USER/PASS take UTF-8 after the UTF8 command.
            yield return "UTF8 USER";
        }

        yield return "IMPLEMENTATION " + options.Implementation;
    }
}
