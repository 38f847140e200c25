using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Poplib.Diagnostics;

namespace Poplib.Fuzz;

/// <summary>
/// Everything the library lets out during one session — the debug writer, an <see cref="ILogger"/>,
/// the <c>Poplib</c> <see cref="DiagnosticListener"/>'s events and the text of every exception the
/// harness sees — so that the session's end can check that no secret is in it.
/// </summary>
internal sealed class Outputs : ILogger, IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>
{
    public const string User = "fuzzuser";

    /// <summary>
    /// A user name long enough that PLAIN's and the OAuth mechanisms' initial responses no longer fit
    /// the AUTH line (RFC 5034's 255 octets) and wait for the server's empty challenge.
    /// </summary>
    public static readonly string LongUser = User + new string('x', 200);
    public const string Password = "S3cr3t-Pa55w0rd!";
    public const string Token = "ya29.a0AfuzzTOKEN-0123456789_abcdef";

    private readonly StringBuilder _text = new();

    public Outputs() => DiagnosticListener.AllListeners.Subscribe(this);

    public StringWriter DebugWriter { get; } = new();

    public void Reset()
    {
        _text.Clear();
        DebugWriter.GetStringBuilder().Clear();
    }

    public void Add(Exception e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            CheckEscaped("an exception's message", inner.Message);
            _text.Append(inner.GetType().Name).Append(": ").AppendLine(inner.Message);
            // The OAuth error document is kept as sent, like Response: not held to the escaping.
            if (inner is Pop3CommandException { Details: { } details })
                _text.AppendLine(details);
        }
    }

    /// <summary>
    /// What the docs promise of exception messages, debug output and log lines: the server's text in
    /// them has its controls (C0, DEL, C1), format characters (bidi, zero-width), line and paragraph
    /// separators and lone surrogates escaped, so that printing them is safe.
    /// </summary>
    private static void CheckEscaped(string where, string text)
    {
        for (int i = 0; i < text.Length;)
        {
            if (Rune.DecodeFromUtf16(text.AsSpan(i), out Rune rune, out int used) != OperationStatus.Done)
                throw new InvariantException($"A lone surrogate reached {where} unescaped: \"{text}\".");
            if (Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format
                or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator)
                throw new InvariantException($"U+{rune.Value:X4} reached {where} unescaped: \"{text.ReplaceLineEndings("\\n")}\".");
            i += used;
        }
    }

    /// <summary>
    /// Throws when a secret, or a form of it that goes on the wire, shows in any output — unless the
    /// server itself sent those bytes (then it is the server's text being quoted, not a leak).
    /// </summary>
    public void CheckNoSecret(ReadOnlySpan<byte> server, string? apopTimestamp, int port)
    {
        foreach (string line in DebugWriter.ToString().Split(Environment.NewLine))
            CheckEscaped("the debug output", line);
        string all = _text.Append(DebugWriter.GetStringBuilder()).ToString();
        foreach ((string name, string form) in Secrets(apopTimestamp, port, User).Concat(Secrets(apopTimestamp, port, LongUser)))
        {
            if (all.Contains(form, StringComparison.Ordinal) && server.IndexOf(Encoding.UTF8.GetBytes(form)) < 0)
                throw new InvariantException($"A secret ({name}) reached the debug output, a log, an audit event or an exception message.");
        }
    }

    private static IEnumerable<(string Name, string Form)> Secrets(string? apopTimestamp, int port, string user)
    {
        yield return ("the password", Password);
        yield return ("the token", Token);
        yield return ("LOGIN's password", Base64(Password));
        yield return ("PLAIN's response", Base64($"\0{user}\0{Password}"));
        yield return ("XOAUTH2's response", Base64($"user={user}\u0001auth=Bearer {Token}\u0001\u0001"));
        yield return ("OAUTHBEARER's response", Base64($"n,a={user},\u0001host=127.0.0.1\u0001port={port}\u0001auth=Bearer {Token}\u0001\u0001"));
        if (apopTimestamp is not null)
        {
#pragma warning disable CA5351 // APOP's digest, as RFC 1939 makes it, to look for.
            yield return ("the APOP digest", Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(apopTimestamp + Password))));
#pragma warning restore CA5351
        }
    }

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    // ILogger: every level, every message as formatted.
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        string message = formatter(state, exception);
        CheckEscaped("a log message", message);
        _text.AppendLine(message);
        if (exception is not null)
            Add(exception);
    }

    // DiagnosticListener: the Poplib audit events.
    void IObserver<DiagnosticListener>.OnNext(DiagnosticListener value)
    {
        if (value.Name == Pop3Diagnostics.SourceName)
            value.Subscribe(this);
    }

    void IObserver<KeyValuePair<string, object?>>.OnNext(KeyValuePair<string, object?> value) =>
        _text.Append(value.Key).Append(' ').AppendLine(value.Value switch
        {
            Pop3PutLineEvent putLine => putLine.Line,
            Pop3ConnectEvent connect => connect.ToString(),
            var other => other?.ToString(),
        });

    void IObserver<DiagnosticListener>.OnCompleted()
    {
    }

    void IObserver<DiagnosticListener>.OnError(Exception error)
    {
    }

    void IObserver<KeyValuePair<string, object?>>.OnCompleted()
    {
    }

    void IObserver<KeyValuePair<string, object?>>.OnError(Exception error)
    {
    }
}

/// <summary>An invariant of the library broke: the harness crashes with this, which is how AFL++ sees a finding.</summary>
internal sealed class InvariantException(string message, Exception? inner = null) : Exception(message, inner);
