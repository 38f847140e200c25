namespace Poplib.Cli.Fetch.Delivery;

internal static class DestinationFactory
{
    public static IMailDestination Open(DestinationSpec spec, string account) => spec.Kind switch
    {
        DestinationKind.Maildir => new MaildirDestination(spec.Target),
        DestinationKind.Mbox => new MboxDestination(spec.Target),
        _ => new MdaDestination(spec.Target, account),
    };
}
