using System.Globalization;
using Poplib.Cli.Output;

namespace Poplib.Cli.Fetch.Progress;

/// <summary>
/// One line per delivered message on standard output, for logs and pipes (no terminal): what a
/// cron job's mail or a CI log should show. Warnings go to standard error.
/// </summary>
internal sealed class LineProgress(TextWriter output, TextWriter error) : IFetchProgress
{
    private readonly Lock _gate = new();

    public void Started(AccountReport account)
    {
        lock (_gate)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{account.Name}: {account.OnServer} message(s) on the server, {account.ToFetch} to fetch ({account.ToFetchBytes:N0} octets)"));
        }
    }

    public void Delivered(AccountReport account, string key, long octets)
    {
        lock (_gate)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{account.Name}: {account.Delivered + account.HeadersOnly}/{account.ToFetch} delivered {TerminalText.Safe(key)} ({octets:N0} octets)"));
        }
    }

    public void Warning(AccountReport account, string message)
    {
        lock (_gate)
            error.WriteLine($"poplib: {account.Name}: warning: {message}");
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

    public void Started(AccountReport account)
    {
    }

    public void Delivered(AccountReport account, string key, long octets)
    {
    }

    public void Warning(AccountReport account, string message)
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
