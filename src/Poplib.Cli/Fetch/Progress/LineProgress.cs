using System.Globalization;
using Poplib.Cli.Output;
using Poplib.Fetch;

namespace Poplib.Cli.Fetch.Progress;

/// <summary>
/// One line per delivered message on standard output, for logs and pipes (no terminal): what a
/// cron job's mail or a CI log should show. Warnings go to standard error.
/// </summary>
internal sealed class LineProgress(TextWriter output, TextWriter error) : IFetchProgress
{
    private readonly Lock _gate = new();

    public void Started(FetchProgress account)
    {
        lock (_gate)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{account.Account}: {account.OnServer} message(s) on the server, {account.ToFetch} to fetch ({account.ToFetchOctets:N0} octets)"));
        }
    }

    public void Delivered(FetchProgress account, MessageKey key, long octets)
    {
        lock (_gate)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{account.Account}: {account.Delivered + account.HeadersOnly}/{account.ToFetch} delivered {TerminalText.Safe(key.Value)} ({octets:N0} octets)"));
        }
    }

    public void Warning(string account, string message)
    {
        lock (_gate)
            error.WriteLine($"poplib: {account}: warning: {message}");
    }

    public void Finished(AccountReport account)
    {
        if (account.Error is null)
            return;
        lock (_gate)
            error.WriteLine($"poplib: {account.Name}: {account.Error}");
    }
}

/// <summary>Nothing but errors (--quiet, and under --json, whose document has everything).</summary>
internal sealed class QuietProgress(TextWriter? error) : IFetchProgress
{
    private readonly Lock _gate = new();

    public void Started(FetchProgress account)
    {
    }

    public void Delivered(FetchProgress account, MessageKey key, long octets)
    {
    }

    public void Warning(string account, string message)
    {
    }

    public void Finished(AccountReport account)
    {
        if (account.Error is null || error is null)
            return;
        lock (_gate)
            error.WriteLine($"poplib: {account.Name}: {account.Error}");
    }
}
