using System.Diagnostics;
using System.Globalization;

namespace Poplib.Fetch.Delivery;

/// <summary>
/// Hands each message to a mail delivery agent (procmail, dovecot-lda, maildrop …) on its standard
/// input, through <c>/bin/sh -c</c>; only exit status 0 counts as delivered. The message is spooled
/// completely first, so the agent never sees half a message when the connection breaks.
/// </summary>
/// <param name="command">The command line, run by /bin/sh.</param>
/// <param name="account">The account key, passed on as POPLIB_ACCOUNT.</param>
/// <param name="hidden">The environment variables the command must not see (passwords).</param>
internal sealed class MdaDestination(string command, AccountKey account, ChildEnvironment hidden) : IMailDestination
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(10);

    public string Name => "mda:" + command;

    public StagedMessage Stage(MessageKey key, long serverSize)
    {
        FileStream spool = PrivateFiles.CreateUnnamed(Path.GetTempPath());
        return new StagedMessage(key, serverSize, spool, temporaryPath: null);
    }

    public async ValueTask<IReadOnlyList<StagedMessage>> CommitAsync(IReadOnlyList<StagedMessage> group, DeliveryJournal journal, Action<string> warn, CancellationToken cancellationToken)
    {
        // One at a time: the agent is the one that makes each message durable. A message it rejects
        // stays on the server and is reported; the others go on.
        var delivered = new List<StagedMessage>(group.Count);
        foreach (StagedMessage message in group)
        {
            message.Location = null;
            journal.Prepare([message]);
            int status;
            try
            {
                status = await RunAsync(message).ConfigureAwait(false);
            }
            catch
            {
                journal.Forget([message.Key]);
                throw;
            }

            if (status != 0)
            {
                journal.Forget([message.Key]);
                warn($"the delivery command failed with exit status {status} for message {message.Key}; it stays on the server");
                continue;
            }

            journal.Confirm([message]);
            delivered.Add(message);
        }

        return delivered;
    }

    public ValueTask RecoverAsync(IReadOnlyList<StoredMessage> delivering, DeliveryJournal journal, Action<string> warn, CancellationToken cancellationToken)
    {
        PrivateFiles.RemoveAbandonedSpools(Path.GetTempPath());
        // Whether the agent finished cannot be known from here: fetch again rather than risk a loss.
        foreach (StoredMessage row in delivering)
            warn($"poplib was interrupted while the delivery command had message {row.Key}; it is fetched again (the command may see it twice)");
        journal.Forget(delivering.Select(r => r.Key));
        return ValueTask.CompletedTask;
    }

    public void Dispose()
    {
    }

    private async Task<int> RunAsync(StagedMessage message)
    {
        // The agent's standard output goes to our standard error at the descriptor level (standard
        // output may be a JSON document): no pipe for a lingering grandchild to hold open.
        ProcessStartInfo start = ShellCommand.StartInfo(OperatingSystem.IsWindows() ? command : "exec 1>&2\n" + command, hidden);
        start.RedirectStandardInput = true;

        // What procmail-style agents and scripts may want to know, without parsing the message.
        start.Environment["POPLIB_ACCOUNT"] = account.ToString();
        start.Environment["POPLIB_UIDL"] = message.Key.Value;
        start.Environment["POPLIB_SIZE"] = message.Content.Length.ToString(CultureInfo.InvariantCulture);
        using Process process = Process.Start(start) ?? throw new FetchException(FetchFailure.Destination, $"cannot start the delivery command: {command}");

        // Fed from another thread, so an agent that stops reading (blocked on a lock, or rejecting
        // early) cannot hang us: the wait below has a limit either way.
        Task feed = Task.Run(() =>
        {
            try
            {
                message.File.Seek(0, SeekOrigin.Begin);
                message.File.CopyTo(process.StandardInput.BaseStream);
                process.StandardInput.Close();
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
            {
                // The agent closed its input, or was stopped: its exit status decides.
            }
        });

        // The agent is not cancelled with the run: a message it is writing is finished or refused
        // by it, within the limit; killing it half-way could leave half a message in the mailbox.
        using var patience = new CancellationTokenSource(Patience);
        try
        {
            await process.WaitForExitAsync(patience.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await Task.WhenAny(feed, Task.Delay(TimeSpan.FromSeconds(10), CancellationToken.None)).ConfigureAwait(false);
            throw new FetchException(FetchFailure.Destination, $"the delivery command did not finish within {Patience.TotalMinutes:0} minutes (message {message.Key}); it stays on the server");
        }

        if (await Task.WhenAny(feed, Task.Delay(TimeSpan.FromSeconds(10), CancellationToken.None)).ConfigureAwait(false) != feed)
        {
            // Something the agent left behind holds its input open without reading: not delivered.
            throw new FetchException(FetchFailure.Destination, $"the delivery command exited without reading message {message.Key}; it stays on the server");
        }

        return process.ExitCode;
    }
}
