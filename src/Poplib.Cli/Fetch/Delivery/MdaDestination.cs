using System.Diagnostics;
using System.Globalization;
using Poplib.Cli.Fetch.State;

namespace Poplib.Cli.Fetch.Delivery;

/// <summary>
/// Hands each message to a mail delivery agent (procmail, dovecot-lda, maildrop …) on its standard
/// input, through <c>/bin/sh -c</c>; only exit status 0 counts as delivered. The message is spooled
/// completely first, so the agent never sees half a message when the connection breaks.
/// </summary>
internal sealed class MdaDestination(string command, string account) : IMailDestination
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(10);

    public string Name => "mda:" + command;

    public StagedMessage Stage(string key, long serverSize)
    {
        FileStream spool = Spool.Create(Path.GetTempPath());
        return new StagedMessage(key, serverSize, spool, new MessageWriter(spool, quoteFrom: false), temporaryPath: null);
    }

    public void Commit(IReadOnlyList<StagedMessage> group, DeliveryJournal journal)
    {
        // One at a time: the agent is the one that makes each message durable.
        foreach (StagedMessage message in group)
        {
            message.Location = null;
            journal.Prepare([message]);
            int status;
            try
            {
                status = Run(message);
            }
            catch
            {
                journal.Forget([message.Key]);
                throw;
            }

            if (status != 0)
            {
                journal.Forget([message.Key]);
                throw new CliException(ExitCodes.LocalIo, $"the delivery command failed with exit status {status} (message {message.Key}); it stays on the server");
            }

            journal.Confirm([message]);
        }
    }

    public void Recover(IReadOnlyList<StoredMessage> delivering, DeliveryJournal journal, Action<string> warn)
    {
        Spool.RemoveAbandoned(Path.GetTempPath());
        // Whether the agent finished cannot be known from here: fetch again rather than risk a loss.
        foreach (StoredMessage row in delivering)
            warn($"poplib was interrupted while the delivery command had message {row.Key}; it is fetched again (the command may see it twice)");
        journal.Forget(delivering.Select(r => r.Key));
    }

    public void Dispose()
    {
    }

    private int Run(StagedMessage message)
    {
        var start = new ProcessStartInfo(OperatingSystem.IsWindows() ? "cmd.exe" : "/bin/sh")
        {
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(OperatingSystem.IsWindows() ? "/c" : "-c");
        start.ArgumentList.Add(command);
        // What procmail-style agents and scripts may want to know, without parsing the message.
        start.Environment["POPLIB_ACCOUNT"] = account;
        start.Environment["POPLIB_UIDL"] = message.Key;
        start.Environment["POPLIB_SIZE"] = message.Content.Length.ToString(CultureInfo.InvariantCulture);
        using Process process = Process.Start(start) ?? throw new CliException(ExitCodes.LocalIo, $"cannot start the delivery command: {command}");
        try
        {
            message.File.Seek(0, SeekOrigin.Begin);
            message.File.CopyTo(process.StandardInput.BaseStream);
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The agent stopped reading (it may reject the message early): its exit status decides.
        }

        if (!process.WaitForExit(Patience))
        {
            process.Kill(entireProcessTree: true);
            throw new CliException(ExitCodes.LocalIo, $"the delivery command did not finish within {Patience.TotalMinutes:0} minutes (message {message.Key}); it stays on the server");
        }

        return process.ExitCode;
    }
}
