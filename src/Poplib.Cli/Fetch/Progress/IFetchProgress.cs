using Poplib.Fetch;

namespace Poplib.Cli.Fetch.Progress;

/// <summary>
/// What the display shows as the runs go. Called from several accounts' tasks at once:
/// implementations are thread-safe. Everything given is an immutable snapshot.
/// </summary>
internal interface IFetchProgress
{
    /// <summary>Connected and listed: the totals to fetch are known.</summary>
    void Started(FetchProgress account);

    /// <summary>A message is durably delivered and recorded.</summary>
    void Delivered(FetchProgress account, MessageKey key, long octets);

    /// <summary>Something the user should know that does not stop the account (worded for the command line, safe for a terminal).</summary>
    void Warning(string account, string message);

    /// <summary>The account is done, well or not.</summary>
    void Finished(AccountReport account);
}

/// <summary>The engine's observer for the command line: words warnings in its options and passes them on.</summary>
internal sealed class ProgressObserver(IFetchProgress progress) : IFetchObserver
{
    public void RunStarted(FetchProgress snapshot) => progress.Started(snapshot);

    public void MessageDelivered(FetchProgress snapshot, MessageKey key, long octets) => progress.Delivered(snapshot, key, octets);

    public void Warning(FetchProgress snapshot, FetchWarning warning) => progress.Warning(snapshot.Account, FetchWording.Warning(warning));
}
