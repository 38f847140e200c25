using Poplib.Testing.Protocol;

namespace Poplib.Testing.Faults;

/// <summary>
/// The one place where <see cref="Pop3Fault"/> records take effect. The session calls it at fixed
/// points — the greeting, before each reply, instead of a command, after a login, when the maildrop
/// opens, while a body streams, when the connection drops — and each point folds over the faults. Command handlers
/// never look at faults.
/// </summary>
internal sealed class FaultInterpreter(IReadOnlyList<Pop3Fault> faults)
{
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

    public string ShapeGreeting(string greeting)
    {
        foreach (Pop3Fault fault in faults)
        {
            if (fault is GreetingWithoutTimestamp && ApopTimestamp.Find(greeting) is { } timestamp)
                greeting = greeting.Replace(timestamp, "", StringComparison.Ordinal).TrimEnd();
        }

        return greeting;
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
                case LoginInUse when request.IsLogin:
                    return "-ERR [IN-USE] Mailbox is locked by another POP3 session (injected fault).";
            }
        }

        return null;
    }

    public IEnumerable<string> ShapeCapabilities(IEnumerable<string> capabilities) =>
        capabilities.Where(line => !faults.OfType<CommandNotSupported>().Any(f =>
            line.Split(' ')[0].Equals(f.Command, StringComparison.OrdinalIgnoreCase)));

    /// <summary>What LIST, STAT and UIDL report for each message.</summary>
    public MaildropEntry[] ShapeMaildrop(MaildropEntry[] entries)
    {
        foreach (Pop3Fault fault in faults)
        {
            entries = fault switch
            {
                WrongListSizes wrong => [.. entries.Select(e => e with { ReportedSize = Math.Max(0, e.ReportedSize + wrong.Delta) })],
                DuplicateUidls => [.. entries.Select((e, i) => i % 2 == 1 ? e with { Uid = entries[i - 1].Uid } : e)],
                _ => entries,
            };
        }

        return entries;
    }

    /// <summary>After how many body octets of message <paramref name="number"/> the connection is cut, or null.</summary>
    public long? BodyCutoff(int number) =>
        faults.OfType<DisconnectAfterBytes>().Where(f => f.Message == number).Select(f => (long?)Math.Max(0, f.Bytes)).Min();
}
