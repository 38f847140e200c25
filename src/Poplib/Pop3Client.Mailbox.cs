using System.Text;
using Poplib.Commands;
using Poplib.Diagnostics;

namespace Poplib;

public sealed partial class Pop3Client
{
    /// <summary>STAT: the number of messages and their total size.</summary>
    public Pop3MailboxStatus Stat() => RunSync(StatCoreAsync(async: false, CancellationToken.None));

    /// <inheritdoc cref="Stat"/>
    public Task<Pop3MailboxStatus> StatAsync(CancellationToken cancellationToken = default) =>
        StatCoreAsync(async: true, cancellationToken).AsTask();

    /// <summary>
    /// LIST: every message's number and size. Numbers of messages deleted in this session are absent
    /// (gaps are normal). A malformed, repeated or out-of-range entry is a <see cref="Pop3ProtocolException"/>.
    /// </summary>
    public IReadOnlyList<Pop3ListEntry> List() => RunSync(ListCoreAsync(async: false, CancellationToken.None));

    /// <inheritdoc cref="List()"/>
    public Task<IReadOnlyList<Pop3ListEntry>> ListAsync(CancellationToken cancellationToken = default) =>
        ListCoreAsync(async: true, cancellationToken).AsTask();

    /// <summary>LIST n: one message's size.</summary>
    /// <exception cref="Pop3CommandException">No such message (or it is marked as deleted).</exception>
    public Pop3ListEntry List(int number) => RunSync(ListOneCoreAsync(number, async: false, CancellationToken.None));

    /// <inheritdoc cref="List(int)"/>
    public Task<Pop3ListEntry> ListAsync(int number, CancellationToken cancellationToken = default) =>
        ListOneCoreAsync(number, async: true, cancellationToken).AsTask();

    /// <summary>
    /// UIDL: every message's number and unique id. An id with a character outside 0x21–0x7E (RFC 1939
    /// section 7), like a malformed, repeated or out-of-range entry, is a <see cref="Pop3ProtocolException"/>.
    /// </summary>
    public IReadOnlyList<Pop3UidlEntry> Uidl() => RunSync(UidlCoreAsync(async: false, CancellationToken.None));

    /// <inheritdoc cref="Uidl()"/>
    public Task<IReadOnlyList<Pop3UidlEntry>> UidlAsync(CancellationToken cancellationToken = default) =>
        UidlCoreAsync(async: true, cancellationToken).AsTask();

    /// <summary>UIDL n: one message's unique id.</summary>
    public Pop3UidlEntry Uidl(int number) => RunSync(UidlOneCoreAsync(number, async: false, CancellationToken.None));

    /// <inheritdoc cref="Uidl(int)"/>
    public Task<Pop3UidlEntry> UidlAsync(int number, CancellationToken cancellationToken = default) =>
        UidlOneCoreAsync(number, async: true, cancellationToken).AsTask();

    /// <summary>
    /// DELE: marks a message for deletion. Nothing is deleted until <see cref="Quit"/> succeeds;
    /// <see cref="Rset"/> or closing without QUIT (Dispose) keeps the message.
    /// </summary>
    public Pop3Response Dele(int number) => RunSync(DeleCoreAsync(number, async: false, CancellationToken.None));

    /// <inheritdoc cref="Dele"/>
    public Task<Pop3Response> DeleAsync(int number, CancellationToken cancellationToken = default) =>
        DeleCoreAsync(number, async: true, cancellationToken).AsTask();

    /// <summary>RSET: removes every deletion mark of this session.</summary>
    public Pop3Response Rset() => RunSync(RsetCoreAsync(async: false, CancellationToken.None));

    /// <inheritdoc cref="Rset"/>
    public Task<Pop3Response> RsetAsync(CancellationToken cancellationToken = default) =>
        RsetCoreAsync(async: true, cancellationToken).AsTask();

    /// <summary>NOOP: does nothing; keeps an idle session alive.</summary>
    public Pop3Response Noop() => RunSync(SimpleCoreAsync("NOOP", async: false, CancellationToken.None));

    /// <inheritdoc cref="Noop"/>
    public Task<Pop3Response> NoopAsync(CancellationToken cancellationToken = default) =>
        SimpleCoreAsync("NOOP", async: true, cancellationToken).AsTask();

    /// <summary>
    /// QUIT: after authentication, commits the deletions and unlocks the mailbox; then closes the
    /// connection, whatever the reply.
    /// </summary>
    /// <exception cref="Pop3CommandException">The server could not commit the deletions (the connection is closed all the same).</exception>
    public Pop3Response Quit() => RunSync(QuitCoreAsync(async: false, CancellationToken.None));

    /// <inheritdoc cref="Quit"/>
    public Task<Pop3Response> QuitAsync(CancellationToken cancellationToken = default) =>
        QuitCoreAsync(async: true, cancellationToken).AsTask();

    private async ValueTask<Pop3MailboxStatus> StatCoreAsync(bool async, CancellationToken cancellationToken)
    {
        using CommandScope scope = Begin("STAT", Pop3SessionState.Transaction);
        Pop3Response response = await _connection.ExecuteAsync(Pop3Command.Create("STAT"), async, cancellationToken).ConfigureAwait(false);
        if (!ListingParser.TryParseNumberAndSize(Encoding.UTF8.GetBytes(response.Text), out long count, out long size) || count > int.MaxValue)
            throw _connection.Fail($"Malformed reply to STAT: \"{ServerText.Escape(response.Line)}\".");
        // Numbers stay fixed for the session while STAT's count shrinks with each DELE.
        _highestMessageNumber = (int)Math.Min(int.MaxValue, count + _deletedInSession);
        return new Pop3MailboxStatus((int)count, size);
    }

    private async ValueTask<IReadOnlyList<Pop3ListEntry>> ListCoreAsync(bool async, CancellationToken cancellationToken)
    {
        var entries = new Pop3ListEntries();
        await ReadListingAsync("LIST", entries, async, cancellationToken).ConfigureAwait(false);
        return entries;
    }

    private ValueTask<Pop3ListEntry> ListOneCoreAsync(int number, bool async, CancellationToken cancellationToken) =>
        ReadListingEntryAsync("LIST", number, s_parseListEntry, async, cancellationToken);

    private async ValueTask<IReadOnlyList<Pop3UidlEntry>> UidlCoreAsync(bool async, CancellationToken cancellationToken)
    {
        var entries = new Pop3UidlEntries(IsUtf8);
        await ReadListingAsync("UIDL", entries, async, cancellationToken).ConfigureAwait(false);
        return entries;
    }

    private ValueTask<Pop3UidlEntry> UidlOneCoreAsync(int number, bool async, CancellationToken cancellationToken) =>
        ReadListingEntryAsync("UIDL", number, s_parseUidlEntry, async, cancellationToken);

    /// <summary>
    /// Parses one listing entry (<c>number size</c> or <c>number uid</c>); false if malformed. The
    /// number comes out separately so that an out-of-range one can be reported as such; a
    /// well-formed entry that breaks a rule says which in <paramref name="invalid"/>.
    /// </summary>
    private delegate bool EntryParser<T>(ReadOnlySpan<byte> text, bool utf8Mode, out long number, out T entry, out string? invalid);

    private static readonly EntryParser<Pop3ListEntry> s_parseListEntry = static (ReadOnlySpan<byte> text, bool _, out long number, out Pop3ListEntry entry, out string? invalid) =>
    {
        invalid = null;
        bool ok = ListingParser.TryParseNumberAndSize(text, out number, out long size);
        entry = ok && number <= int.MaxValue ? new Pop3ListEntry((int)number, size) : default;
        return ok;
    };

    private static readonly EntryParser<Pop3UidlEntry> s_parseUidlEntry = static (ReadOnlySpan<byte> text, bool utf8Mode, out long number, out Pop3UidlEntry entry, out string? invalid) =>
    {
        invalid = null;
        bool ok = ListingParser.TryParseNumberAndUid(text, out number, out ReadOnlySpan<byte> uid);
        invalid = ok ? ListingParser.CheckUid(uid, utf8Mode, number) : null;
        entry = ok && number <= int.MaxValue ? new Pop3UidlEntry((int)number, ReplyParser.Decode(uid, utf8Mode)) : default;
        return ok;
    };

    /// <summary>LIST or UIDL without argument: a multi-line listing, checked entry by entry.</summary>
    private async ValueTask ReadListingAsync(string verb, IListingEntries entries, bool async, CancellationToken cancellationToken)
    {
        using CommandScope scope = Begin(verb, Pop3SessionState.Transaction);
        await _connection.ExecuteAsync(Pop3Command.Create(verb), async, cancellationToken).ConfigureAwait(false);
        var validator = new ListingValidator(_options.MaxListEntries, _highestMessageNumber);
        while (await _connection.ReadListingLineAsync(async, cancellationToken).ConfigureAwait(false) is { } line)
        {
            int accepted = entries.Count;
            if (!entries.TryAdd(line.Span, out long number, out string? invalid))
                throw _connection.Fail($"Malformed {verb} line: \"{ServerText.Escape(line.Span)}\".");
            if (invalid is not null)
                throw _connection.Fail($"Invalid {verb} listing: {invalid}: \"{ServerText.Escape(line.Span)}\".");
            string? problem;
            try
            {
                problem = validator.Accept(number, accepted);
            }
            catch (Pop3LimitExceededException e)
            {
                _connection.Fail(e);
                throw;
            }

            if (problem is not null)
                throw _connection.Fail($"Invalid {verb} listing: {problem}.");
        }

        if (validator.Finish(entries) is { } duplicate)
            throw _connection.Fail($"Invalid {verb} listing: {duplicate}.");
    }

    /// <summary>LIST n or UIDL n: a single-line reply that must be about message n.</summary>
    private async ValueTask<T> ReadListingEntryAsync<T>(string verb, int number, EntryParser<T> parse, bool async, CancellationToken cancellationToken)
    {
        ValidateMessageNumber(number);
        using CommandScope scope = Begin(verb, Pop3SessionState.Transaction);
        Pop3Response response = await _connection.ExecuteAsync(Pop3Command.Create(verb, Number(number)), async, cancellationToken).ConfigureAwait(false);
        if (!parse(Encoding.UTF8.GetBytes(response.Text), IsUtf8, out long answered, out T entry, out string? invalid))
            throw _connection.Fail($"Malformed reply to {verb} {number}: \"{ServerText.Escape(response.Line)}\".");
        if (invalid is not null)
            throw _connection.Fail($"Invalid reply to {verb} {number}: {invalid}: \"{ServerText.Escape(response.Line)}\".");
        if (answered != number)
            throw _connection.Fail($"The server answered {verb} {number} for message {answered}.");
        return entry;
    }

    private async ValueTask<Pop3Response> DeleCoreAsync(int number, bool async, CancellationToken cancellationToken)
    {
        ValidateMessageNumber(number);
        using CommandScope scope = Begin("DELE", Pop3SessionState.Transaction);
        Pop3Response response = await _connection.ExecuteAsync(Pop3Command.Create("DELE", Number(number)), async, cancellationToken).ConfigureAwait(false);
        _deletedInSession++;
        return response;
    }

    private async ValueTask<Pop3Response> SimpleCoreAsync(string verb, bool async, CancellationToken cancellationToken)
    {
        using CommandScope scope = Begin(verb, Pop3SessionState.Transaction);
        return await _connection.ExecuteAsync(Pop3Command.Create(verb), async, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<Pop3Response> RsetCoreAsync(bool async, CancellationToken cancellationToken)
    {
        Pop3Response response = await SimpleCoreAsync("RSET", async, cancellationToken).ConfigureAwait(false);
        _deletedInSession = 0;
        return response;
    }

    private async ValueTask<Pop3Response> QuitCoreAsync(bool async, CancellationToken cancellationToken)
    {
        using CommandScope scope = Begin("QUIT");
        try
        {
            return await _connection.ExecuteAsync(Pop3Command.Create("QUIT"), async, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _connection.CloseAfterQuit();
        }
    }

    private static string Number(int number) => number.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
