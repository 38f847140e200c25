namespace Poplib.Testing.Protocol;

internal sealed partial class Pop3Session
{
    private static readonly Dictionary<string, Handler> Handlers = new(StringComparer.Ordinal)
    {
        ["CAPA"] = new(SessionState.Authorization | SessionState.Transaction, static (s, r) => s.CapaAsync(r)),
        ["QUIT"] = new(SessionState.Authorization | SessionState.Transaction, static (s, r) => s.QuitAsync(r)),
        ["USER"] = new(SessionState.Authorization, static (s, r) => s.UserAsync(r)),
        ["PASS"] = new(SessionState.Authorization, static (s, r) => s.PassAsync(r)),
        ["APOP"] = new(SessionState.Authorization, static (s, r) => s.ApopAsync(r)),
        ["AUTH"] = new(SessionState.Authorization, static (s, r) => s.AuthAsync(r)),
        ["STLS"] = new(SessionState.Authorization, static (s, r) => s.StlsAsync(r)),
        ["UTF8"] = new(SessionState.Authorization, static (s, r) => s.Utf8Async(r)),
        ["STAT"] = new(SessionState.Transaction, static (s, r) => s.StatAsync(r)),
        ["LIST"] = new(SessionState.Transaction, static (s, r) => s.ListAsync(r)),
        ["UIDL"] = new(SessionState.Transaction, static (s, r) => s.UidlAsync(r)),
        ["RETR"] = new(SessionState.Transaction, static (s, r) => s.RetrAsync(r)),
        ["TOP"] = new(SessionState.Transaction, static (s, r) => s.TopAsync(r)),
        ["DELE"] = new(SessionState.Transaction, static (s, r) => s.DeleAsync(r)),
        ["RSET"] = new(SessionState.Transaction, static (s, r) => s.RsetAsync(r)),
        ["NOOP"] = new(SessionState.Transaction, static (s, r) => s.NoopAsync(r)),
    };

    private ValueTask DispatchAsync(Pop3Request request)
    {
        if (!Handlers.TryGetValue(request.Verb, out Handler? handler))
            return _writer.LineAsync($"-ERR Unknown command: {request.PrintableVerb}");
        if ((handler.States & _state) == 0)
            return _writer.LineAsync($"-ERR {request.Verb} is not valid in the {(_state == SessionState.Authorization ? "AUTHORIZATION" : "TRANSACTION")} state.");
        // RFC 6856: before UTF8, arguments are ASCII.
        if (!request.IsAscii && !_utf8)
            return _writer.LineAsync("-ERR Non-ASCII arguments need the UTF8 command first (RFC 6856).");
        return handler.Run(this, request);
    }

    private sealed record Handler(SessionState States, Func<Pop3Session, Pop3Request, ValueTask> Run);
}
