namespace Poplib.Cli.Fetch.Progress;

/// <summary>
/// What the fetcher tells the display as it goes. Called from several accounts' tasks at once:
/// implementations are thread-safe.
/// </summary>
internal interface IFetchProgress
{
    /// <summary>Connected and listed: the totals to fetch are known.</summary>
    void Started(AccountReport account);

    /// <summary>A message is durably delivered and recorded.</summary>
    void Delivered(AccountReport account, string key, long octets);

    /// <summary>Something the user should know that does not stop the account.</summary>
    void Warning(AccountReport account, string message);

    /// <summary>The account is done, well or not.</summary>
    void Finished(AccountReport account);
}
