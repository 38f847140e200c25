using System.Diagnostics;
using System.Globalization;
using System.Text;
using Poplib.Cli.Connection;
using Poplib.Cli.Fetch.Delivery;
using Poplib.Cli.Fetch.Progress;
using Poplib.Cli.Fetch.State;

namespace Poplib.Cli.Fetch;

/// <summary>
/// Fetches one account: settle what an interrupted run left, log in, list, decide what is new,
/// download it pipelined into the destination in durable groups, DELE what is delivered (delete
/// mode), QUIT. The one rule everything here serves: a message is DELE'd only after it is durably
/// delivered and recorded, and recorded only in an order the next run can check.
/// </summary>
internal sealed partial class AccountFetcher(AccountSettings account, FetchState state, ChildEnvironment hidden, CliConsole console, IFetchProgress progress)
{
    /// <summary>A group is also committed once this many octets are waiting, to bound what a crash costs.</summary>
    private const long MaxGroupBytes = 64L * 1024 * 1024;

    private readonly AccountReport _report = new(account.Name);
    private readonly string _key = account.Key;

    public AccountReport Report => _report;

    public async Task<AccountReport> RunAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        // Each read has its timeout, but a server that dribbles a byte now and then meets them all;
        // the run as a whole must end, or it holds the account's lock against every later run.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(account.Policy.MaxRunTime);
        try
        {
            await FetchAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _report.Interrupted = true;
            _report.ExitCode = ExitCodes.Interrupted;
            _report.Error = "interrupted: what arrived whole is delivered and recorded; nothing was deleted in this run";
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            _report.ExitCode = ExitCodes.TemporaryFailure;
            _report.Error = $"stopped after --max-run-time {Config.DurationParser.Format(account.Policy.MaxRunTime)}: what arrived whole is delivered and recorded; " +
                "nothing was deleted in this run; the next run goes on from here";
        }
        catch (Exception e)
        {
            (_report.ExitCode, string message) = ErrorReporter.Classify(e);
            _report.Error = message;
        }

        _report.Elapsed = clock.Elapsed;
        progress.Finished(_report);
        return _report;
    }

    private void Warn(string message)
    {
        // Warnings quote the server (its -ERR text, UIDLs): made safe for a terminal once, here.
        message = Output.TerminalText.Safe(message);
        _report.Warnings.Add(message);
        progress.Warning(_report, message);
    }

    private async Task FetchAsync(CancellationToken cancellationToken)
    {
        using AccountLock held = AccountLock.Acquire(state.Path, _key);
        string password = account.ReadPassword();
        using IMailDestination destination = DestinationFactory.Open(account.Destination, _key, hidden);
        var journal = new DeliveryJournal(state, _key, destination.Name);
        SettleInterruptedDeliveries(destination, journal);

        await using Pop3Client client = await SessionFactory.OpenAsync(account.Connection, password, console, cancellationToken);
        Dictionary<string, StoredMessage> known = state.Load(_key);
        IReadOnlyList<ServerMessage> messages = await MailboxListing.ReadAsync(client, known, Warn, cancellationToken);
        _report.OnServer = messages.Count;
        _report.OnServerBytes = messages.Sum(m => m.Size);

        bool dedupe = await CheckIdentityAsync(client, messages, known, cancellationToken);
        if (account.Policy.OnUidlReset == UidlResetAction.MarkSeen && dedupe)
        {
            MarkAllSeen(messages, known);
            known = state.Load(_key);
            dedupe = false;
        }

        Dictionary<string, StoredMessage> unproven = await VerifyChangedKeysAsync(client, messages, known, cancellationToken);
        state.MarkOnServer(_key, messages.Select(m => m.Key).Where(known.ContainsKey).ToHashSet(StringComparer.Ordinal));

        FetchPlan plan = FetchPlan.Make(messages, known, account.Policy, unproven.Keys.ToHashSet(StringComparer.Ordinal));
        _report.SkippedOversize = plan.Oversized.Count;
        _report.ToFetch = plan.Full.Count + plan.HeadersOnly.Count;
        _report.ToFetchBytes = plan.Full.Sum(m => m.Size);
        if (plan.Oversized.Count > 0)
            Warn($"{plan.Oversized.Count} message(s) over --max-size {account.Policy.MaxSize} octets left on the server");
        progress.Started(_report);

        var deliveredNow = new HashSet<string>(StringComparer.Ordinal);
        await DownloadAsync(client, destination, journal, plan.Full, headersOnly: false, dedupe, unproven, deliveredNow, cancellationToken);
        await DownloadAsync(client, destination, journal, plan.HeadersOnly, headersOnly: true, dedupe: false, unproven, deliveredNow, cancellationToken);

        if (account.Policy.Delete)
            await DeleteDeliveredAsync(client, [.. plan.AlreadyDelivered, .. messages.Where(m => deliveredNow.Contains(m.Key))], cancellationToken);
        else
            await client.QuitAsync(cancellationToken);

        if (_report.Rejected > 0)
        {
            throw new CliException(ExitCodes.LocalIo,
                $"the delivery command rejected {_report.Rejected} message(s); they stay on the server and are offered again next run");
        }
    }

    /// <summary>
    /// Rows an interrupted run left half-way: each is confirmed, rolled forward or forgotten — by the
    /// destination it was being delivered to, even if this run delivers elsewhere.
    /// </summary>
    private void SettleInterruptedDeliveries(IMailDestination destination, DeliveryJournal journal)
    {
        List<StoredMessage> pending = [.. state.Load(_key).Values.Where(r => r.Status is MessageStatus.Delivering or MessageStatus.DeliveringHeaders)];
        foreach (IGrouping<string, StoredMessage> elsewhere in pending.Where(r => r.Destination != destination.Name).GroupBy(r => r.Destination))
        {
            using IMailDestination? previous = DestinationFactory.FromName(elsewhere.Key, _key, hidden);
            if (previous is null)
            {
                Warn($"{elsewhere.Count()} message(s) were being delivered to {elsewhere.Key} when an earlier run stopped; that destination cannot be opened now, so they are fetched again");
                journal.Forget(elsewhere.Select(r => r.Key));
                continue;
            }

            previous.Recover([.. elsewhere], new DeliveryJournal(state, _key, previous.Name), Warn);
        }

        destination.Recover([.. pending.Where(r => r.Destination == destination.Name)], journal, Warn);
    }

    private void MarkAllSeen(IReadOnlyList<ServerMessage> messages, Dictionary<string, StoredMessage> known) =>
        state.Save(_key, [.. messages.Where(m => !known.ContainsKey(m.Key))
            .Select(m => new StoredMessage(m.Key, MessageStatus.Seen, m.Size, null, null, "(marked seen)", null, OnServer: true))]);

    /// <summary>
    /// Downloads <paramref name="messages"/> into the destination in durable groups. Those in
    /// <paramref name="unproven"/> were delivered before under the same key but could not be
    /// identified by their header: each is compared byte for byte with what was delivered then.
    /// </summary>
    private async Task DownloadAsync(Pop3Client client, IMailDestination destination, DeliveryJournal journal, IReadOnlyList<ServerMessage> messages, bool headersOnly,
        bool dedupe, IReadOnlyDictionary<string, StoredMessage> unproven, HashSet<string> deliveredNow, CancellationToken cancellationToken)
    {
        if (messages.Count == 0)
            return;
        var byNumber = messages.ToDictionary(m => m.Number);
        var group = new List<StagedMessage>();
        long groupBytes = 0;
        bool mbox = account.Destination.Kind == DestinationKind.Mbox;
        IAsyncEnumerable<Pop3BatchMessage> replies = headersOnly
            ? client.TopManyAsync(messages.Select(m => m.Number), 0, cancellationToken)
            : client.RetrManyAsync(messages.Select(m => m.Entry), cancellationToken);
        try
        {
            await foreach (Pop3BatchMessage reply in replies)
            {
                ServerMessage message = byNumber[reply.Number];
                if (!reply.IsOk)
                {
                    _report.Refused++;
                    Warn($"the server refused message {message.Number} ({message.Key}): {reply.Response.Text}; it stays on the server");
                    continue;
                }

                StagedMessage staged = destination.Stage(message.Key, message.Size);
                StoredMessage? earlier = unproven.GetValueOrDefault(message.Key);
                using DeliveredDigest? witness = earlier is null ? null : DeliveredDigest.For(earlier);
                bool whole;
                try
                {
                    if (headersOnly)
                    {
                        staged.Outcome = MessageStatus.Truncated;
                        staged.Writer.Write(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
                            $"X-Poplib-Truncated: only the header was fetched; the message has {message.Size} octets (over --max-size {account.Policy.MaxSize})\r\n")));
                    }

                    whole = await MessageCopy.CopyAsync(reply.Content, staged.Writer, witness?.Writer, account.Policy.MaxSize, cancellationToken);
                    if (whole)
                        staged.Complete(terminate: mbox);
                }
                catch
                {
                    Discard(staged);
                    throw;
                }

                if (!whole)
                {
                    Discard(staged);
                    _report.SkippedOversize++;
                    Warn($"message {message.Number} ({message.Key}) is larger than --max-size {account.Policy.MaxSize} octets, though the server listed it at {message.Size}; nothing of it was kept, and it stays on the server");
                    continue;
                }

                if (earlier is not null)
                {
                    // A key recorded as delivered (and maybe deleted) before, whose identity the header
                    // could not prove: the content decides. The same bytes: the copy of a message
                    // already delivered (a server that ignored DELE) — never delivered twice, DELE'd in
                    // delete mode. Other bytes: new mail under a reused UIDL — delivered, never lost.
                    if (witness?.Matches() == true)
                    {
                        Discard(staged);
                        _report.Duplicates++;
                        if (earlier.Status == MessageStatus.Deleted)
                            state.Save(_key, [earlier with { Status = MessageStatus.Delivered, OnServer = true }]);
                        if (account.Policy.Delete)
                            deliveredNow.Add(message.Key);
                        continue;
                    }

                    Warn(witness is null
                        ? $"message {message.Number} has the key {message.Key} of a message delivered before, and cannot be compared with it; it is delivered again rather than risk losing it"
                        : $"message {message.Number} has the key {message.Key} of a message delivered before, but other content; it is delivered as new");
                }

                if (dedupe && staged.Content.MessageId is { } id && DeliveredBefore(id) is var where && where != DeliveredWhere.Nowhere)
                {
                    // Delivered from this mailbox under its old UIDL: the copy may go in delete mode.
                    // Delivered under another key (another host name, or another server with the same
                    // user name): recorded as seen only, so it is never deleted from here.
                    Discard(staged);
                    _report.Duplicates++;
                    bool same = where == DeliveredWhere.ThisMailbox;
                    state.Save(_key, [new StoredMessage(message.Key, same ? MessageStatus.Delivered : MessageStatus.Seen, message.Size, id, null,
                        "(duplicate of mail already delivered)", null, OnServer: true)]);
                    if (same)
                        deliveredNow.Add(message.Key);
                    continue;
                }

                group.Add(staged);
                groupBytes += staged.Content.Length;
                if (group.Count >= account.Policy.BatchSize || groupBytes >= MaxGroupBytes)
                {
                    Commit(destination, journal, group, headersOnly, deliveredNow);
                    groupBytes = 0;
                }
            }
        }
        catch
        {
            // Whatever stopped the download (a broken connection, Ctrl-C, a full disk), the messages
            // that arrived whole are delivered; only the one in flight is dropped. A failure here must
            // not hide the reason the download stopped.
            try
            {
                if (group.Count > 0)
                    Commit(destination, journal, group, headersOnly, deliveredNow);
            }
            catch (Exception secondary) when (secondary is not OperationCanceledException)
            {
                Warn($"could not deliver the {group.Count} message(s) that arrived before the download stopped ({ErrorReporter.Classify(secondary).Message}); they are fetched again next run");
            }

            throw;
        }

        if (group.Count > 0)
            Commit(destination, journal, group, headersOnly, deliveredNow);
    }

    private void Commit(IMailDestination destination, DeliveryJournal journal, List<StagedMessage> group, bool headersOnly, HashSet<string> deliveredNow)
    {
        try
        {
            IReadOnlyList<StagedMessage> delivered = destination.Commit(group, journal, Warn);
            _report.Rejected += group.Count - delivered.Count;
            foreach (StagedMessage message in delivered)
            {
                // Only whole messages may be deleted from the server; a headers-only copy never.
                if (headersOnly)
                {
                    _report.HeadersOnly++;
                }
                else
                {
                    deliveredNow.Add(message.Key);
                    _report.Delivered++;
                    _report.DeliveredBytes += message.ServerSize;
                }

                progress.Delivered(_report, message.Key, message.ServerSize);
            }
        }
        finally
        {
            foreach (StagedMessage message in group)
                Discard(message);
            group.Clear();
        }
    }

    /// <summary>Closes a staged message and removes its private file if it is still there (not moved into place).</summary>
    private static void Discard(StagedMessage staged)
    {
        staged.Dispose();
        if (staged.TemporaryPath is { } path && File.Exists(path))
        {
            try
            {
                File.Delete(path);
            }
            catch (IOException)
            {
                // Left in tmp/: removed by the next run (its process is gone by then).
            }
        }
    }

    /// <summary>
    /// DELE every message whose delivery is recorded — this run's and earlier runs' whose DELE did not
    /// take — then QUIT, which is what commits the deletions; only then are they marked deleted.
    /// </summary>
    private async Task DeleteDeliveredAsync(Pop3Client client, IReadOnlyList<ServerMessage> delivered, CancellationToken cancellationToken)
    {
        var numbers = delivered.Select(m => m.Number).Distinct().Order().ToList();
        IReadOnlyList<Pop3BatchItem> outcomes = numbers.Count > 0 ? await client.DeleManyAsync(numbers, cancellationToken) : [];
        var byNumber = delivered.GroupBy(m => m.Number).ToDictionary(g => g.Key, g => g.First().Key);
        var accepted = new List<string>();
        foreach (Pop3BatchItem outcome in outcomes)
        {
            if (outcome.IsOk)
                accepted.Add(byNumber[outcome.Number]);
            else
                Warn($"the server refused to delete message {outcome.Number}: {outcome.Response.Text}");
        }

        Pop3Response quit = await client.QuitAsync(cancellationToken);
        if (quit.IsOk)
        {
            state.SetStatus(_key, accepted, MessageStatus.Deleted);
            _report.Deleted = accepted.Count;
        }
    }
}
