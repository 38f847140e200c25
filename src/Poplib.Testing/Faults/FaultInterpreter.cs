using Poplib.Testing.Protocol;

namespace Poplib.Testing.Faults;

/// <summary>
/// The one place where <see cref="Pop3Fault"/> records take effect. The session calls it at fixed
/// points — the greeting, before each reply, each status line, instead of a command, after a login,
/// when the maildrop opens, after UIDL, what a message's body is, while a body streams, instead of a
/// TLS handshake, when the connection drops — and each point folds over the faults. Command handlers
/// never look at faults. <paramref name="memory"/> is what faults remember across one server's sessions.
/// </summary>
internal sealed class FaultInterpreter(IReadOnlyList<Pop3Fault> faults, FaultMemory memory)
{
    private int _errors;

    private static readonly byte[] Crlf = "\r\n"u8.ToArray();
    private static readonly byte[] Lf = "\n"u8.ToArray();

    /// <summary>The line ending of everything the server sends.</summary>
    public byte[] LineEnding => faults.Any(f => f is BareLineFeeds) ? Lf : Crlf;

    /// <summary>How long to wait before each reply.</summary>
    public TimeSpan ReplyDelay => faults.OfType<DelayReplies>().Aggregate(TimeSpan.Zero, (sum, f) => sum + f.Delay);

    /// <summary>Whether deletions are committed when the connection drops without QUIT.</summary>
    public bool CommitOnDisconnect => faults.Any(f => f is DeleteOnDisconnect);

    /// <summary>Called when a command has just logged the session in; may drop the client's input already read.</summary>
    public void OnLoggedIn(CommandReader reader)
    {
        if (faults.Any(f => f is DiscardInputAfterLogin))
            reader.DiscardBufferedInput();
    }

    /// <summary>Whether replies go out with Nagle on and their status line in a segment of its own.</summary>
    public bool SplitsReplies => faults.Any(f => f is SplitReplies);

    /// <summary>What STLS sends after its <c>+OK</c> and the client's first TLS record instead of a handshake (<see cref="StlsFailsAfterOk"/>), or null.</summary>
    public (byte[] Alert, string Line)? HandshakeRefusal =>
        faults.OfType<StlsFailsAfterOk>().FirstOrDefault() is { } failure
            ? ([0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x00], "-ERR " + failure.Reason) // a TLS 1.2 warning alert: close_notify
            : null;

    /// <summary>The greeting's status line, from the configured greeting's text.</summary>
    public string ShapeGreeting(string greeting)
    {
        foreach (Pop3Fault fault in faults)
        {
            if (fault is GreetingWithoutTimestamp && ApopTimestamp.Find(greeting) is { } timestamp)
                greeting = greeting.Replace(timestamp, "", StringComparison.Ordinal).TrimEnd();
        }

        return ShapeStatus(null, ("+OK " + greeting).TrimEnd());
    }

    /// <summary>A reply's status line as it goes out (<paramref name="request"/> is null for the greeting).</summary>
    public string ShapeStatus(Pop3Request? request, string line)
    {
        bool ok = line.StartsWith("+OK", StringComparison.Ordinal);
        foreach (Pop3Fault fault in faults)
        {
            line = fault switch
            {
                SuccessLine success when ok && request is not null && request.Is(success.Command) => success.Line,
                BareStatusLines when !(ok && CarriesData(request)) => ok ? "+OK" : "-ERR",
                _ => line,
            };
        }

        return line;
    }

    // STAT's, LIST n's and UIDL n's success lines are the answer itself, not text about it.
    private static bool CarriesData(Pop3Request? request) =>
        request is not null && (request.Is("STAT") || ((request.Is("LIST") || request.Is("UIDL")) && request.Arguments.Length > 0));

    /// <summary>Counts the reply's status line; true when the connection must now be closed (<see cref="DisconnectAfterErrors"/>).</summary>
    public bool EndsSessionAfter(string? statusLine)
    {
        if (statusLine is null || !statusLine.StartsWith("-ERR", StringComparison.Ordinal))
            return false;
        _errors++;
        return faults.OfType<DisconnectAfterErrors>().Any(f => _errors >= f.Count);
    }

    /// <summary>A reply that replaces the command's real one, or null to run the command.</summary>
    public string? Intercept(Pop3Request request)
    {
        foreach (Pop3Fault fault in faults)
        {
            switch (fault)
            {
                case OverlongReply overlong when request.Is(overlong.Command):
                    return "+OK " + new string('x', Math.Max(0, overlong.Length - 4));
                case CommandNotSupported unsupported when request.Is(unsupported.Command):
                    return "-ERR Unknown command: " + request.Verb;
                case CommandRefused refused when request.Is(refused.Command):
                    return refused.Line;
                case LoginInUse when request.IsLogin:
                    return "-ERR [IN-USE] Mailbox is locked by another POP3 session (injected fault).";
            }
        }

        return null;
    }

    public IEnumerable<string> ShapeCapabilities(IEnumerable<string> capabilities) =>
        (faults.OfType<CapabilityLines>().LastOrDefault()?.Lines ?? capabilities).Where(line => !faults.OfType<CommandNotSupported>().Any(f =>
            line.Split(' ')[0].Equals(f.Command, StringComparison.OrdinalIgnoreCase)));

    /// <summary>What LIST, STAT and UIDL report for each message, in the order the session numbers them.</summary>
    public MaildropEntry[] ShapeMaildrop(MaildropEntry[] entries)
    {
        if (faults.Any(f => f is QuotedFromLines or XUidlHeader))
        {
            entries = [.. entries.Select(e =>
            {
                e = e with { CarriesXUidl = faults.Any(f => f is XUidlHeader) && memory.WasTold(e.Uid) };
                return e with { ReportedSize = MessageFormatter.Measure(ShapeContent(e, ReadAll(e.Message), topLines: -1)) };
            })];
        }

        foreach (Pop3Fault fault in faults)
        {
            entries = fault switch
            {
                WrongListSizes wrong => [.. entries.Select(e => e with { ReportedSize = Math.Max(0, e.ReportedSize + wrong.Delta) })],
                DuplicateUidls => [.. entries.Select((e, i) => i % 2 == 1 ? e with { Uid = entries[i - 1].Uid } : e)],
                ShuffledNumbers shuffled => Shuffle(entries, new Random(shuffled.Seed + memory.NextLogin())),
                _ => entries,
            };
        }

        return entries;
    }

    /// <summary>Called for each message UIDL has just told; returns what the session reports for it from now on.</summary>
    public MaildropEntry Told(MaildropEntry entry)
    {
        if (!faults.Any(f => f is XUidlHeader) || entry.CarriesXUidl)
            return entry;
        memory.Tell(entry.Uid);
        return entry with { CarriesXUidl = true, ReportedSize = entry.ReportedSize + XUidlLine(entry.Uid).Length };
    }

    /// <summary>Whether RETR and TOP send something other than the stored message (which is then read whole).</summary>
    public bool ShapesContent(MaildropEntry entry, long topLines) =>
        entry.CarriesXUidl || faults.Any(f => f is QuotedFromLines) || (topLines > 0 && faults.Any(f => f is TopExtraBlankLine));

    /// <summary>
    /// What RETR (<paramref name="topLines"/> -1) or TOP sends of a stored message, before line endings
    /// and dot-stuffing: From lines quoted again, the X-UIDL header line, TOP's extra empty line. Lines
    /// added may end in CRLF or LF: the formatter sends every line with the session's line ending.
    /// </summary>
    public byte[] ShapeContent(MaildropEntry entry, byte[] stored, long topLines)
    {
        if (faults.Any(f => f is QuotedFromLines))
            stored = QuoteFromLines(stored);
        if (entry.CarriesXUidl)
        {
            int blankLine = HeaderEnd(stored).BlankLine;
            stored = [.. stored.AsSpan(0, blankLine), .. XUidlLine(entry.Uid), .. stored.AsSpan(blankLine)];
        }

        if (topLines > 0 && faults.Any(f => f is TopExtraBlankLine))
        {
            int body = HeaderEnd(stored).Body;
            stored = [.. stored.AsSpan(0, body), (byte)'\n', .. stored.AsSpan(body)];
        }

        return stored;
    }

    /// <summary>How many body lines TOP sends for the <paramref name="asked"/> ones (its extra empty line is one more).</summary>
    public long TopLines(long asked) => asked > 0 && faults.Any(f => f is TopExtraBlankLine) ? asked + 1 : asked;

    private static byte[] XUidlLine(string uid) => System.Text.Encoding.ASCII.GetBytes("X-UIDL: " + uid + "\r\n");

    private static byte[] ReadAll(Pop3MailboxMessage message)
    {
        using Stream source = message.OpenRead();
        var copy = new MemoryStream();
        source.CopyTo(copy);
        return copy.ToArray();
    }

    // Where the header's empty line starts and where the body starts (the end, for a message without one).
    private static (int BlankLine, int Body) HeaderEnd(byte[] message)
    {
        for (int start = 0; start < message.Length;)
        {
            int lf = Array.IndexOf(message, (byte)'\n', start);
            int end = lf < 0 ? message.Length : lf + 1;
            int length = end - start - (lf < 0 ? 0 : 1);
            if (length == 0 || (length == 1 && message[start] == (byte)'\r'))
                return (start, end);
            start = end;
        }

        return (message.Length, message.Length);
    }

    // One more '>' on every line that matches ^>*From (mboxrd quoting, applied again).
    private static byte[] QuoteFromLines(byte[] message)
    {
        var quoted = new List<byte>(message.Length + 16);
        for (int start = 0; start < message.Length;)
        {
            int lf = Array.IndexOf(message, (byte)'\n', start);
            int end = lf < 0 ? message.Length : lf + 1;
            ReadOnlySpan<byte> line = message.AsSpan(start, end - start);
            if (line.TrimStart((byte)'>').StartsWith("From "u8))
                quoted.Add((byte)'>');
            quoted.AddRange(line);
            start = end;
        }

        return [.. quoted];
    }

    private static MaildropEntry[] Shuffle(MaildropEntry[] entries, Random random)
    {
        MaildropEntry[] shuffled = [.. entries];
        random.Shuffle(shuffled);
        return shuffled;
    }

    /// <summary>After how many body octets of message <paramref name="number"/> the connection is cut, or null.</summary>
    public long? BodyCutoff(int number) =>
        faults.OfType<DisconnectAfterBytes>().Where(f => f.Message == number).Select(f => (long?)Math.Max(0, f.Bytes)).Min();
}
