namespace Poplib.Cli.Fetch.Delivery;

internal static class DestinationFactory
{
    public static IMailDestination Open(DestinationSpec spec, string account, ChildEnvironment hidden) => spec.Kind switch
    {
        DestinationKind.Maildir => new MaildirDestination(spec.Target),
        DestinationKind.Mbox => new MboxDestination(spec.Target),
        _ => new MdaDestination(spec.Target, account, hidden),
    };

    /// <summary>The destination a state row names ("maildir:/path", "mbox:/path", "mda:command"), or null if it cannot be opened.</summary>
    public static IMailDestination? FromName(string name, string account, ChildEnvironment hidden)
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
                _ => null,
            };
        }
        catch (CliException)
        {
            return null;
        }
    }
}
