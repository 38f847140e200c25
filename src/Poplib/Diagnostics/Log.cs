using Microsoft.Extensions.Logging;

namespace Poplib.Diagnostics;

/// <summary>Every log message the library writes, in one place, as source-generated methods.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Connected to {Host}:{Port} (TLS: {Tls})")]
    public static partial void Connected(ILogger logger, string host, int port, bool tls);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "C: {Line}")]
    public static partial void Sent(ILogger logger, string line);

    [LoggerMessage(EventId = 3, Level = LogLevel.Trace, Message = "S: {Line}")]
    public static partial void Received(ILogger logger, string line);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "TLS started with STLS ({Protocol})")]
    public static partial void TlsStarted(ILogger logger, System.Security.Authentication.SslProtocols protocol);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "Connection closed after an error: {Reason}")]
    public static partial void Broken(ILogger logger, string reason);

    [LoggerMessage(EventId = 6, Level = LogLevel.Trace, Message = "S: <message body, {Octets} octets>")]
    public static partial void ReceivedBody(ILogger logger, long octets);

    // Information, not Warning: GNU mailutils sends one empty line too many with every TOP.
    [LoggerMessage(EventId = 7, Level = LogLevel.Information, Message = "The server's TOP reply went on past the lines asked for; {Octets} octets dropped")]
    public static partial void DroppedTopExcess(ILogger logger, long octets);

    // Information: a machine without Kerberos or an NTLM provider is normal; Login takes the next method.
    [LoggerMessage(EventId = 8, Level = LogLevel.Information, Message = "Login: {Mechanism} cannot run on this machine, trying the next method ({Reason})")]
    public static partial void MechanismUnavailable(ILogger logger, string mechanism, string reason);
}
