using System.Net.Sockets;
using System.Security.Authentication;

namespace Poplib.Cli;

/// <summary>
/// Turns any exception into one clear line on standard error and an exit code; the stack trace
/// only at -vv. The server's own text is always part of the line when there is one.
/// </summary>
internal static class ErrorReporter
{
    public static int Report(Exception error, TextWriter stderr, int debugLevel)
    {
        if (error is Output.BrokenPipeException)
            return ExitCodes.BrokenPipe; // quietly, like a tool killed by SIGPIPE
        (int code, string message) = Classify(error);
        stderr.WriteLine($"poplib: {message}");
        if (debugLevel >= 2)
            stderr.WriteLine(string.Join('\n', error.ToString().Split('\n').Select(Output.TerminalText.Safe)));
        return code;
    }

    /// <summary>The exit code and the one-line message for a failure, safe to print (server text in it is escaped).</summary>
    public static (int Code, string Message) Classify(Exception error)
    {
        (int code, string message) = Describe(error);
        return (code, Output.TerminalText.Safe(message));
    }

    private static (int Code, string Message) Describe(Exception error) => error switch
    {
        CliException cli => (cli.ExitCode, cli.Message),
        // The engine wraps what it met as it was (a refused login, a broken connection): word that as the other commands do.
        Poplib.Fetch.FetchException { Wrapped: true, InnerException: { } inner } => Describe(inner),
        Poplib.Fetch.FetchException fetch => Fetch.FetchWording.Failure(fetch),
        Output.BrokenPipeException => (ExitCodes.BrokenPipe, "standard output was closed"),
        OperationCanceledException => (ExitCodes.Interrupted, "interrupted; nothing was deleted that the server had not already committed."),
        // Only a new sign-in helps (the message says how), or the client registration is wrong; else the network or the server.
        Poplib.Fetch.OAuth.OAuth2Exception { SignInRequired: true } oauth => (ExitCodes.Authentication, oauth.Message),
        Poplib.Fetch.OAuth.OAuth2Exception { Error: "invalid_client" or "unauthorized_client" or "invalid_scope" } oauth => (ExitCodes.Usage, $"OAuth 2.0: {oauth.Message}"),
        Poplib.Fetch.OAuth.OAuth2Exception oauth => (ExitCodes.Connection, $"OAuth 2.0: {oauth.Message}"),
        Pop3CommandException command => (ExitCodes.ServerError, $"the server refused {command.Command}: {command.ResponseText}"),
        // The library's message names its own API (ConnectSsl, Stls(), the option); say it in options.
        Pop3AuthenticationException { Reason: Pop3AuthenticationFailure.InsecureConnection } =>
            (ExitCodes.Authentication, "refusing to log in over a connection that is not encrypted: an eavesdropper would see the password, or enough to crack it offline " +
                "(APOP, CRAM-MD5 and SCRAM too). Use --ssl or --starttls; to log in without encryption anyway, add --allow-insecure-auth."),
        Pop3AuthenticationException auth => (ExitCodes.Authentication, auth.Message),
        // The proxy's own refusal of our credentials is a login failure; anything else about it, a connection failure.
        Pop3ProxyException { Reason: Pop3ProxyFailure.AuthenticationFailed } proxy => (ExitCodes.Authentication, proxy.Message),
        Pop3ProxyException proxy => (ExitCodes.Connection, proxy.Message),
        Pop3ProtocolException protocol => (ExitCodes.Protocol, $"protocol error: {protocol.Message}"),
        Pop3CertificateException certificate => (ExitCodes.Connection, $"TLS failed: {Certificate(certificate)}"),
        AuthenticationException tls => (ExitCodes.Connection, $"TLS failed: {tls.Message} (the certificate is checked; see --ca-file, or --insecure-skip-verify for testing only)"),
        SocketException socket => (ExitCodes.Connection, $"cannot connect: {socket.Message}"),
        TimeoutException timeout => (ExitCodes.Connection, timeout.Message),
        IOException io when io.InnerException is SocketException => (ExitCodes.Connection, $"connection failed: {io.Message}"),
        Microsoft.Data.Sqlite.SqliteException sqlite => (ExitCodes.LocalIo, $"the fetch state database failed: {sqlite.Message}"),
        IOException io => (ExitCodes.LocalIo, $"I/O error: {io.Message}"),
        UnauthorizedAccessException access => (ExitCodes.LocalIo, $"I/O error: {access.Message}"),
        NotSupportedException notSupported => (ExitCodes.ServerError, notSupported.Message),
        ArgumentException argument => (ExitCodes.Usage, argument.Message),
        _ => (ExitCodes.Internal, $"unexpected error: {error.Message}"),
    };


    /// <summary>A refused certificate in the command line's words: what the server presented, and which option to use.</summary>
    private static string Certificate(Pop3CertificateException refused)
    {
        string presented = $"public key {refused.PublicKeyPin}, certificate {refused.CertificateFingerprint}";
        string subject = refused.Certificate is { } c ? $"{c.Subject}, issued by {c.Issuer}" : "";
        return refused.Reason switch
        {
            Pop3CertificateFailure.Untrusted =>
                $"the server's certificate is not trusted ({subject}; {presented}). If it is your own server, see it with 'poplib capa --show-certificate', " +
                "check a fingerprint with its owner, then trust it with --ca-file FILE (its certificate or CA) and, if you like, pin it with --tls-fingerprint.",
            Pop3CertificateFailure.PinMismatch =>
                $"the server's certificate matches no --tls-fingerprint ({string.Join(", ", refused.ExpectedPins)}): it presented {presented} ({subject}). " +
                "If the server's certificate was replaced on purpose, check the new fingerprint with its owner and update --tls-fingerprint; otherwise someone may be impersonating the server.",
            _ => refused.Message,
        };
    }

    public static string Describe(Pop3ResponseCode code) => code switch
    {
        Pop3ResponseCode.Auth => "wrong credentials",
        Pop3ResponseCode.InUse => "mailbox in use by another session; try again later",
        Pop3ResponseCode.LoginDelay => "logged in too recently; try again later",
        Pop3ResponseCode.SysTemp => "temporary server problem; try again later",
        Pop3ResponseCode.SysPerm => "permanent server problem",
        _ => "refused",
    };
}
