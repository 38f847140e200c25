using Microsoft.Extensions.Logging;

namespace Poplib.Diagnostics;

/// <summary>
/// The protocol transcript: poplib's debug output (levels 1 and 2, as <c>C:</c>/<c>S:</c> lines on a
/// <see cref="TextWriter"/>) and the same events to an <see cref="ILogger"/>. It is only ever handed
/// masked command text, so no password reaches either sink; what the server sent is shown escaped
/// (<see cref="ServerText"/>), so no escape sequence of its choosing reaches a terminal.
/// </summary>
internal sealed class Pop3Transcript
{
    private readonly ILogger? _logger;
    private readonly TextWriter? _writer;

    public Pop3Transcript(int debugLevel, TextWriter? writer, ILogger? logger)
    {
        DebugLevel = debugLevel;
        _writer = writer;
        _logger = logger;
    }

    public int DebugLevel { get; set; }

    private TextWriter Writer => _writer ?? Console.Error;

    public void Connected(string host, int port, bool tls)
    {
        if (DebugLevel >= 1)
            Write($"*connect* {host}:{port}{(tls ? " (TLS)" : "")}");
        if (_logger is not null)
            Log.Connected(_logger, host, port, tls);
    }

    /// <summary>Whether <see cref="Sent"/> shows anything (a debug level or a logger).</summary>
    public bool WantsCommands => DebugLevel >= 1 || _logger is not null;

    /// <summary>A command sent; <paramref name="maskedLine"/> never holds a secret.</summary>
    public void Sent(string maskedLine)
    {
        if (DebugLevel >= 1)
            Write("C: " + maskedLine);
        if (_logger is not null)
            Log.Sent(_logger, maskedLine);
    }

    /// <summary>A status line received (level 1 and up).</summary>
    public void ReceivedStatus(string line)
    {
        line = ServerText.Escape(line);
        if (DebugLevel >= 1)
            Write("S: " + line);
        if (_logger is not null)
            Log.Received(_logger, line);
    }

    /// <summary>A line of a listing (LIST, UIDL, CAPA), shown from level 2.</summary>
    public bool WantsListingLines => DebugLevel >= 2 || (_logger?.IsEnabled(LogLevel.Trace) ?? false);

    public void ReceivedListingLine(string line)
    {
        line = ServerText.Escape(line);
        if (DebugLevel >= 2)
            Write("S: " + line);
        if (_logger is not null)
            Log.Received(_logger, line);
    }

    /// <summary>The end of a message body: only its size is shown, never the content.</summary>
    public void ReceivedBody(long octets)
    {
        if (DebugLevel >= 2)
            Write($"S: <message body, {octets} octets>");
        if (_logger is not null)
            Log.ReceivedBody(_logger, octets);
    }

    /// <summary>A TOP reply went on past the lines asked for; the rest was read and dropped.</summary>
    public void DroppedExcess(long octets)
    {
        if (DebugLevel >= 1)
            Write($"*TOP reply longer than asked: {octets} octets past the requested lines dropped*");
        if (_logger is not null)
            Log.DroppedTopExcess(_logger, octets);
    }

    public void Note(string text)
    {
        if (DebugLevel >= 1)
            Write("*" + text + "*");
    }

    public void Broken(string reason)
    {
        reason = ServerText.Escape(reason);
        if (DebugLevel >= 1)
            Write("*closed* " + reason);
        if (_logger is not null)
            Log.Broken(_logger, reason);
    }

    private void Write(string line)
    {
        TextWriter writer = Writer;
        lock (writer)
            writer.WriteLine(line);
    }
}
