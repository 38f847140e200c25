using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Poplib.Fetch;

/// <summary>
/// Fetches one account: settle what an interrupted run left, log in, list, decide what is new,
/// download it pipelined into the destination in durable groups, DELE what is delivered (delete
/// mode), QUIT. The one rule everything here serves: a message is DELE'd only after it is durably
/// delivered and recorded, and recorded only in an order the next run can check.
/// </summary>
internal sealed partial class AccountFetcher(FetchAccount account, IFetchStateStore state, ChildEnvironment? hidden, IFetchObserver? observer, ILogger logger)
{
    /// <summary>A group is also committed once this many octets are waiting, to bound what a crash costs.</summary>
    private const long MaxGroupBytes = 64L * 1024 * 1024;

    private readonly AccountKey _key = account.Key;
    private readonly RunCounters _counters = new(account.Name, account.Key);
    private ChildEnvironment _hidden = hidden ?? ChildEnvironment.None;
    private IFetchLease? _lease;

    public async Task<FetchResult> RunAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        // Each read has its timeout, but a server that dribbles a byte now and then meets them all;
        // the run as a whole must end, or it holds the account's lock against every later run.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(account.Policy.MaxRunTime);
        FetchException? failure = null;
        try
        {
            await FetchAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (_lease?.Lost.IsCancellationRequested == true && !cancellationToken.IsCancellationRequested)
        {
            failure = LeaseLost(e);
        }
        catch (FetchException e) when (_lease?.Lost.IsCancellationRequested == true && e.Failure != FetchFailure.LeaseLost && !cancellationToken.IsCancellationRequested)
        {
            // What failed first was a fenced write or a read cut short by the loss: the loss is the reason.
            failure = LeaseLost(e);
        }
        catch (OperationCanceledException e) when (cancellationToken.IsCancellationRequested)
        {
            failure = new FetchException(FetchFailure.Canceled, "interrupted: what arrived whole is delivered and recorded; nothing was deleted in this run", e);
        }
        catch (OperationCanceledException e) when (deadline.IsCancellationRequested)
        {
            failure = new FetchException(FetchFailure.RunTimeExceeded,
                $"stopped after the maximum run time of {DurationParser.Format(account.Policy.MaxRunTime)}: what arrived whole is delivered and recorded; " +
                "nothing was deleted in this run; the next run goes on from here", e);
        }
        catch (Exception e)
        {
            failure = FetchException.From(e);
        }

        FetchResult result = _counters.Result(clock.Elapsed);
        if (failure is not null)
        {
            failure.Result = result;
            failure.LoginDelay = result.LoginDelay;
            Log.RunFailed(logger, account.Name, failure.Failure, result.Delivered, failure.Message);
        }
        else
        {
            Log.RunFinished(logger, account.Name, result.Delivered, result.DeliveredOctets, result.Deleted, result.Elapsed.TotalSeconds);
        }

        Notify(o => o.RunFinished(result, failure));
        if (failure is not null)
            throw failure;
        return result;
    }

    private static FetchException LeaseLost(Exception cause) =>
        new(FetchFailure.LeaseLost, "the lease on the account was lost (another worker may hold it now): this run stopped before recording or deleting anything more; " +
            "what it recorded before is kept, and the account's next run settles the rest", cause);

    /// <summary>Tells the observer, which must not stop the run.</summary>
    private void Notify(Action<IFetchObserver> tell) => Notify(static (o, tell) => tell(o), tell);

    /// <summary>As <see cref="Notify(Action{IFetchObserver})"/>, with what to tell passed in: no closure a message.</summary>
    private void Notify<TState>(Action<IFetchObserver, TState> tell, TState state)
    {
        if (observer is null)
            return;
        try
        {
            tell(observer, state);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.ObserverFailed(logger, account.Name, e);
        }
    }

    private void Warn(string message) => Warn(new FetchWarning(FetchWarningKind.General, message));

    private void Warn(FetchWarning warning)
    {
        FetchProgress progress = _counters.AddWarning(warning);
        Log.Warning(logger, account.Name, warning.Message);
        Notify(o => o.Warning(progress, warning));
    }

    private async Task FetchAsync(CancellationToken cancellationToken)
    {
        using IDisposable held = state.LockAccount(_key);
        _lease = held as IFetchLease;
        // A lost lease stops the run at once: another worker may be fetching the account already.
        using var leased = _lease is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lease.Lost);
        cancellationToken = leased?.Token ?? cancellationToken;
        string password = account.AccessTokens is null ? await account.Password(cancellationToken).ConfigureAwait(false) : "";
        // No program this run starts may see the password (a delivery command, a helper).
        _hidden = hidden is null ? new ChildEnvironment(account.SecretVariables, [password]) : hidden.With(account.SecretVariables, password);
        using IMailDestination destination = account.Destination.Open(_key, _hidden);
        if (destination is SinkDestination sink)
        {
            sink.AccountName = account.Name;
            sink.Timeout = account.Policy.SinkTimeout;
        }

        var journal = new DeliveryJournal(state, _key, destination.Name, _lease);
        Dictionary<MessageKey, StoredMessage>? settled = await SettleInterruptedDeliveriesAsync(destination, journal, cancellationToken).ConfigureAwait(false);

        Pop3Client client = await OpenSessionAsync(password, cancellationToken).ConfigureAwait(false);
        await using (client.ConfigureAwait(false))
        {
            _counters.SetLoginDelay(client.Capabilities.LoginDelay ?? _counters.LoginDelay);
            await FetchAsync(client, destination, journal, settled, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task FetchAsync(Pop3Client client, IMailDestination destination, DeliveryJournal journal, Dictionary<MessageKey, StoredMessage>? settled,
        CancellationToken cancellationToken)
    {
        Dictionary<MessageKey, StoredMessage> known = settled ?? state.Load(_key);
        IReadOnlyList<ServerMessage> messages = await MailboxListing.ReadAsync(client, known, Warn, cancellationToken).ConfigureAwait(false);
        _counters.Listed(messages.Count, messages.Sum(m => m.Size));

        bool dedupe = await CheckIdentityAsync(client, messages, known, cancellationToken).ConfigureAwait(false);
        if (account.Policy.OnUidlReset == UidlResetAction.MarkSeen && dedupe)
        {
            MarkAllSeen(messages, known);
            known = state.Load(_key);
            dedupe = false;
        }

        Dictionary<MessageKey, StoredMessage> unproven = await VerifyChangedKeysAsync(client, messages, known, cancellationToken).ConfigureAwait(false);
        state.MarkOnServer(_key, messages.Select(m => m.Key).Where(known.ContainsKey).ToHashSet());

        FetchPlan plan = FetchPlan.Make(messages, known, account.Policy, unproven.Keys.ToHashSet());
        _counters.Planned(plan.Full.Count + plan.HeadersOnly.Count, plan.Full.Sum(m => m.Size), plan.Oversized.Count);
        if (plan.Oversized.Count > 0)
        {
            Warn(new FetchWarning(FetchWarningKind.OversizeSkipped,
                $"{plan.Oversized.Count} message(s) over the size limit of {account.Policy.MaxSize} octets left on the server") { Count = plan.Oversized.Count, MaxSize = account.Policy.MaxSize });
        }

        FetchProgress started = _counters.Progress();
        Notify(o => o.RunStarted(started));

        var deliveredNow = new HashSet<MessageKey>(plan.Full.Count);
        await DownloadAsync(client, destination, journal, plan.Full, headersOnly: false, dedupe, unproven, deliveredNow, cancellationToken).ConfigureAwait(false);
        await DownloadAsync(client, destination, journal, plan.HeadersOnly, headersOnly: true, dedupe: false, unproven, deliveredNow, cancellationToken).ConfigureAwait(false);

        if (account.Policy.Delete)
            await DeleteDeliveredAsync(client, [.. plan.AlreadyDelivered, .. messages.Where(m => deliveredNow.Contains(m.Key))], cancellationToken).ConfigureAwait(false);
        else
            await client.QuitAsync(cancellationToken).ConfigureAwait(false);

        if (_counters.Rejected is > 0 and int rejected)
        {
            throw new FetchException(FetchFailure.Rejected,
                $"{(destination is MdaDestination ? "the delivery command" : destination is Delivery.Lmtp.LmtpDestination ? "the LMTP server deferred (4xx) or" : "the destination")} rejected {rejected} message(s); they stay on the server and are offered again next run");
        }
    }

    /// <summary>Connects and logs in: the account's own opener, or the host, port and TLS mode it names.</summary>
    private async Task<Pop3Client> OpenSessionAsync(string password, CancellationToken cancellationToken)
    {
        if (account.OpenSession is { } open)
            return await open(password, cancellationToken).ConfigureAwait(false);
        Pop3ClientOptions options = account.ClientOptions ?? new Pop3ClientOptions();
        Pop3Client client = account.Tls == FetchTls.Implicit
            ? await Pop3Client.ConnectSslAsync(account.Host, account.EffectivePort, options, cancellationToken).ConfigureAwait(false)
            : await Pop3Client.ConnectAsync(account.Host, account.EffectivePort, options, cancellationToken).ConfigureAwait(false);
        try
        {
            // What the server announced before login counts if login is refused ([LOGIN-DELAY]).
            _counters.SetLoginDelay(client.Capabilities.LoginDelay);
            if (account.Tls == FetchTls.StartTls)
                await client.StlsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            if (account.AccessTokens is { } tokens)
                await Connection.LoginMethods.LoginAsync(client, account.LoginMethod ?? "auto", account.User, tokens, cancellationToken).ConfigureAwait(false);
            else
                await Connection.LoginMethods.LoginAsync(client, account.LoginMethod ?? "auto", account.User, password, cancellationToken).ConfigureAwait(false);
            return client;
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Rows an interrupted run left half-way: each is confirmed, rolled forward or forgotten — by the
    /// destination it was being delivered to, even if this run delivers elsewhere. Returns the rows as
    /// loaded when there was nothing to settle (the state is unchanged, and the account is ours until
    /// the run ends), so that the fetch does not read them all again — on a mailbox of 20,000 known
    /// messages each load was a tenth of the CPU of a run that finds nothing new; null otherwise.
    /// </summary>
    private async Task<Dictionary<MessageKey, StoredMessage>?> SettleInterruptedDeliveriesAsync(IMailDestination destination, DeliveryJournal journal, CancellationToken cancellationToken)
    {
        Dictionary<MessageKey, StoredMessage> rows = state.Load(_key);
        List<StoredMessage> pending = [.. rows.Values.Where(r => r.Status is MessageStatus.Delivering or MessageStatus.DeliveringHeaders)];
        foreach (IGrouping<string, StoredMessage> elsewhere in pending.Where(r => r.Destination != destination.Name).GroupBy(r => r.Destination))
        {
            using IMailDestination? previous = DestinationFactory.FromName(elsewhere.Key, _key, _hidden);
            if (previous is null)
            {
                Warn($"{elsewhere.Count()} message(s) were being delivered to {elsewhere.Key} when an earlier run stopped; that destination cannot be opened now, so they are fetched again");
                journal.Forget(elsewhere.Select(r => r.Key));
                continue;
            }

            await previous.RecoverAsync([.. elsewhere], new DeliveryJournal(state, _key, previous.Name, _lease), Warn, cancellationToken).ConfigureAwait(false);
        }

        await destination.RecoverAsync([.. pending.Where(r => r.Destination == destination.Name)], journal, Warn, cancellationToken).ConfigureAwait(false);
        return pending.Count == 0 ? rows : null;
    }

    private void MarkAllSeen(IReadOnlyList<ServerMessage> messages, Dictionary<MessageKey, StoredMessage> known) =>
        state.Save(_key, [.. messages.Where(m => !known.ContainsKey(m.Key))
            .Select(m => new StoredMessage(m.Key, MessageStatus.Seen, m.Size, null, null, "(marked seen)", null, OnServer: true))]);

    /// <summary>
    /// Downloads <paramref name="messages"/> into the destination in durable groups. Those in
    /// <paramref name="unproven"/> were delivered before under the same key but could not be
    /// identified by their header: each is compared byte for byte with what was delivered then.
    /// </summary>
    private async Task DownloadAsync(Pop3Client client, IMailDestination destination, DeliveryJournal journal, IReadOnlyList<ServerMessage> messages, bool headersOnly,
        bool dedupe, IReadOnlyDictionary<MessageKey, StoredMessage> unproven, HashSet<MessageKey> deliveredNow, CancellationToken cancellationToken)
    {
        if (messages.Count == 0)
            return;
        var byNumber = messages.ToDictionary(m => m.Number);
        var group = new List<StagedMessage>();
        long groupBytes = 0;
        IAsyncEnumerable<Pop3BatchMessage> replies = headersOnly
            ? client.TopManyAsync(messages.Select(m => m.Number), 0, cancellationToken)
            : client.RetrManyAsync(messages.Select(m => m.Entry), cancellationToken);
        try
        {
            await foreach (Pop3BatchMessage reply in replies.ConfigureAwait(false))
            {
                ServerMessage message = byNumber[reply.Number];
                if (!reply.IsOk)
                {
                    _counters.AddRefused();
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
                            $"X-Poplib-Truncated: only the header was fetched; the message has {message.Size} octets (over the size limit of {account.Policy.MaxSize})\r\n")));
                    }

                    whole = await MessageCopy.CopyAsync(reply.Content, staged.Writer, witness?.Writer, account.Policy.MaxSize, cancellationToken).ConfigureAwait(false);
                    if (whole)
                        staged.Complete();
                }
                catch
                {
                    Discard(staged);
                    throw;
                }

                if (!whole)
                {
                    Discard(staged);
                    _counters.AddSkippedOversize();
                    Warn(new FetchWarning(FetchWarningKind.OversizeOnArrival,
                        $"message {message.Number} ({message.Key}) is larger than the size limit of {account.Policy.MaxSize} octets, though the server listed it at {message.Size}; nothing of it was kept, and it stays on the server")
                    {
                        MessageNumber = message.Number,
                        Key = message.Key,
                        MaxSize = account.Policy.MaxSize,
                        ListedSize = message.Size,
                    });
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
                        _counters.AddDuplicate();
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
                    _counters.AddDuplicate();
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
                    await CommitAsync(destination, journal, group, headersOnly, deliveredNow, cancellationToken).ConfigureAwait(false);
                    groupBytes = 0;
                }
            }
        }
        catch
        {
            // Whatever stopped the download (a broken connection, Ctrl-C, a full disk), the messages
            // that arrived whole are delivered; only the one in flight is dropped. A failure here must
            // not hide the reason the download stopped.
            int waiting = group.Count; // counted now: the commit empties the group, delivered or not
            try
            {
                if (waiting > 0)
                    await CommitAsync(destination, journal, group, headersOnly, deliveredNow, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception secondary) when (secondary is not OperationCanceledException)
            {
                Warn($"could not deliver the {waiting} message(s) that arrived before the download stopped ({secondary.Message}); they are fetched again next run");
            }

            throw;
        }

        if (group.Count > 0)
            await CommitAsync(destination, journal, group, headersOnly, deliveredNow, cancellationToken).ConfigureAwait(false);
    }

    private async Task CommitAsync(IMailDestination destination, DeliveryJournal journal, List<StagedMessage> group, bool headersOnly, HashSet<MessageKey> deliveredNow,
        CancellationToken cancellationToken)
    {
        try
        {
            IReadOnlyList<StagedMessage> delivered = await destination.CommitAsync(group, journal, Warn, cancellationToken).ConfigureAwait(false);
            _counters.AddRejected(group.Count - delivered.Count);
            foreach (StagedMessage message in delivered)
            {
                // Only whole messages may be deleted from the server; a headers-only copy never.
                if (!headersOnly)
                    deliveredNow.Add(message.Key);
                FetchProgress progress = _counters.AddDelivered(message.ServerSize, headersOnly);
                Notify(static (o, delivered) => o.MessageDelivered(delivered.progress, delivered.Key, delivered.ServerSize), (progress, message.Key, message.ServerSize));
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
        // A file moved into place has no private name left: not even a stat to spend on it.
        if (!staged.InPlace && staged.TemporaryPath is { } path && File.Exists(path))
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
        _lease?.EnsureHeld(); // DELE and QUIT cannot be undone: never after another worker may have taken the account
        IReadOnlyList<Pop3BatchItem> outcomes = numbers.Count > 0 ? await client.DeleManyAsync(numbers, cancellationToken).ConfigureAwait(false) : [];
        var byNumber = delivered.GroupBy(m => m.Number).ToDictionary(g => g.Key, g => g.First().Key);
        var accepted = new List<MessageKey>();
        foreach (Pop3BatchItem outcome in outcomes)
        {
            if (outcome.IsOk)
                accepted.Add(byNumber[outcome.Number]);
            else
                Warn($"the server refused to delete message {outcome.Number}: {outcome.Response.Text}");
        }

        _lease?.EnsureHeld();
        Pop3Response quit = await client.QuitAsync(cancellationToken).ConfigureAwait(false);
        if (quit.IsOk)
        {
            state.SetStatus(_key, accepted, MessageStatus.Deleted);
            _counters.AddDeleted(accepted.Count);
        }
    }
}
