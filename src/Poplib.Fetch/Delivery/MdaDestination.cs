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
internal sealed class MdaDestination(string command, AccountKey account, ChildEnvironment hidden) : SpooledDestination
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(10);

    public override string Name => "mda:" + command;

    // One at a time: the agent is the one that makes each message durable. A message it rejects
    // stays on the server and is reported; the others go on.
    protected override async ValueTask<string?> DeliverAsync(StagedMessage message, CancellationToken cancellationToken)
    {
        message.Location = null;
        int status = await RunAsync(message).ConfigureAwait(false);
        return status == 0 ? null : $"the delivery command failed with exit status {status} for message {message.Key}; it stays on the server";
    }

    // Whether the agent finished cannot be known from here: fetch again rather than risk a loss.
    protected override string Interrupted(MessageKey key) =>
        $"poplib was interrupted while the delivery command had message {key}; it is fetched again (the command may see it twice)";

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
