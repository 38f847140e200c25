namespace Poplib.Fetch.Delivery;

internal static class DestinationFactory
{
    /// <summary>
    /// The built-in destination a state row names ("maildir:/path", "mbox:/path", "mda:command", "lmtp:endpoint": an LMTP row is always forgotten), to
    /// settle what an interrupted run left, or null if it cannot be opened (a sink or a destination of
    /// the application's own is not reopened by name: its rows are fetched again).
    /// </summary>
    public static IMailDestination? FromName(string name, AccountKey account, ChildEnvironment hidden)
    {
        int colon = name.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
            return null;
        string target = name[(colon + 1)..];
        try
        {
            return name[..colon] switch
            {
                "maildir" when Directory.Exists(target) => new MaildirDestination(target),
                "mbox" when Directory.Exists(Path.GetDirectoryName(target)) => new MboxDestination(target),
                "mda" => new MdaDestination(target, account, hidden),
                "lmtp" => new Lmtp.LmtpDestination(Lmtp.LmtpEndpoint.Parse(target), [], new Lmtp.LmtpClientOptions()),
                _ => null,
            };
        }
        catch (Exception e) when (e is FetchException or FormatException)
        {
            return null;
        }
    }
}
