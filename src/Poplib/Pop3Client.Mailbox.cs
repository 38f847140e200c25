using System.Text;
using Poplib.Commands;

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

    /// <summary>UIDL: every message's number and unique id.</summary>
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
            throw _connection.Fail($"Malformed reply to STAT: \"{response.Line}\".");
        // Numbers stay fixed for the session while STAT's count shrinks with each DELE.
        _highestMessageNumber = (int)Math.Min(int.MaxValue, count + _deletedInSession);
        return new Pop3MailboxStatus((int)count, size);
    }

    private async ValueTask<IReadOnlyList<Pop3ListEntry>> ListCoreAsync(bool async, CancellationToken cancellationToken)
    {
        using CommandScope scope = Begin("LIST", Pop3SessionState.Transaction);
        await _connection.ExecuteAsync(Pop3Command.Create("LIST"), async, cancellationToken).ConfigureAwait(false);
        var entries = new List<Pop3ListEntry>();
        var validator = new ListingValidator(_options.MaxListEntries, _highestMessageNumber);
        while (await _connection.ReadListingLineAsync(async, cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (!ListingParser.TryParseNumberAndSize(line.Span, out long number, out long size))
                throw _connection.Fail($"Malformed LIST line: \"{Engine.Pop3Connection.Printable(line.Span)}\".");
            AcceptListed(ref validator, number, entries, "LIST");
            entries.Add(new Pop3ListEntry((int)number, size));
        }

        return entries;
    }

    private async ValueTask<Pop3ListEntry> ListOneCoreAsync(int number, bool async, CancellationToken cancellationToken)
    {
        ValidateMessageNumber(number);
        using CommandScope scope = Begin("LIST", Pop3SessionState.Transaction);
        Pop3Response response = await _connection.ExecuteAsync(Pop3Command.Create("LIST", Number(number)), async, cancellationToken).ConfigureAwait(false);
        if (!ListingParser.TryParseNumberAndSize(Encoding.UTF8.GetBytes(response.Text), out long answered, out long size))
            throw _connection.Fail($"Malformed reply to LIST {number}: \"{response.Line}\".");
        if (answered != number)
            throw _connection.Fail($"The server answered LIST {number} for message {answered}.");
        return new Pop3ListEntry(number, size);
    }

    private async ValueTask<IReadOnlyList<Pop3UidlEntry>> UidlCoreAsync(bool async, CancellationToken cancellationToken)
    {
        using CommandScope scope = Begin("UIDL", Pop3SessionState.Transaction);
        await _connection.ExecuteAsync(Pop3Command.Create("UIDL"), async, cancellationToken).ConfigureAwait(false);
        var entries = new List<Pop3UidlEntry>();
        var validator = new ListingValidator(_options.MaxListEntries, _highestMessageNumber);
        while (await _connection.ReadListingLineAsync(async, cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (!ListingParser.TryParseNumberAndUid(line.Span, out long number, out ReadOnlySpan<byte> uid))
                throw _connection.Fail($"Malformed UIDL line: \"{Engine.Pop3Connection.Printable(line.Span)}\".");
            AcceptListed(ref validator, number, entries, "UIDL");
            entries.Add(new Pop3UidlEntry((int)number, ReplyParser.Decode(uid, IsUtf8)));
        }

        return entries;
    }

    private async ValueTask<Pop3UidlEntry> UidlOneCoreAsync(int number, bool async, CancellationToken cancellationToken)
    {
        ValidateMessageNumber(number);
        using CommandScope scope = Begin("UIDL", Pop3SessionState.Transaction);
        Pop3Response response = await _connection.ExecuteAsync(Pop3Command.Create("UIDL", Number(number)), async, cancellationToken).ConfigureAwait(false);
        if (!ListingParser.TryParseNumberAndUid(Encoding.UTF8.GetBytes(response.Text), out long answered, out ReadOnlySpan<byte> uid))
            throw _connection.Fail($"Malformed reply to UIDL {number}: \"{response.Line}\".");
        if (answered != number)
            throw _connection.Fail($"The server answered UIDL {number} for message {answered}.");
        return new Pop3UidlEntry(number, ReplyParser.Decode(uid, IsUtf8));
    }

    private void AcceptListed<T>(ref ListingValidator validator, long number, List<T> entries, string verb)
        where T : IMessageNumbered
    {
        string? problem;
        try
        {
            problem = validator.Accept(number, entries);
        }
        catch (Pop3LimitExceededException e)
        {
            _connection.Fail(e.Message);
            throw;
        }

        if (problem is not null)
            throw _connection.Fail($"Invalid {verb} listing: {problem}.");
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
