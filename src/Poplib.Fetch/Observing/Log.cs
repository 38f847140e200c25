using Microsoft.Extensions.Logging;

namespace Poplib.Fetch.Observing;

/// <summary>The engine's log messages: one line per run at Information, warnings and failures at Warning.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "{Account}: {Delivered} message(s) delivered ({Octets} octets), {Deleted} deleted, in {Seconds:0.0} s")]
    public static partial void RunFinished(ILogger logger, string account, int delivered, long octets, int deleted, double seconds);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "{Account}: failed ({Failure}) after {Delivered} message(s) delivered: {Error}")]
    public static partial void RunFailed(ILogger logger, string account, FetchFailure failure, int delivered, string error);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "{Account}: {Warning}")]
    public static partial void Warning(ILogger logger, string account, string warning);

    [LoggerMessage(EventId = 4, Level = LogLevel.Error, Message = "{Account}: the fetch observer threw; ignored")]
    public static partial void ObserverFailed(ILogger logger, string account, Exception error);
}
