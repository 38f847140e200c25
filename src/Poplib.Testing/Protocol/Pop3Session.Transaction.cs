using System.Buffers;

namespace Poplib.Testing.Protocol;

/// <summary>The TRANSACTION state (RFC 1939 section 5) and QUIT's UPDATE state (section 6).</summary>
internal sealed partial class Pop3Session
{
    private const int ChunkSize = 32 * 1024;

    private Maildrop Drop => _maildrop!;

    private ValueTask StatAsync(Pop3Request request) =>
        _writer.LineAsync($"+OK {Drop.LiveCount} {Drop.LiveSize}");

    private ValueTask ListAsync(Pop3Request request) =>
        ListingAsync(request, entry => entry.ReportedSize.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private async ValueTask UidlAsync(Pop3Request request)
    {
        await ListingAsync(request, entry => entry.Uid).ConfigureAwait(false);
        // What UIDL has told can change what the session reports (the XUidlHeader fault).
        if (request.Arguments.Length == 0)
        {
            foreach ((int number, MaildropEntry entry) in Drop.Live.ToList())
                Drop.Replace(number, _faults.Told(entry));
        }
        else if (Drop.TryFind(request.Arguments[0], out int number, out MaildropEntry entry) is null)
        {
            Drop.Replace(number, _faults.Told(entry));
        }
    }

    // LIST and UIDL share their shape: one line for "n", a dot-terminated listing without it.
    private async ValueTask ListingAsync(Pop3Request request, Func<MaildropEntry, string> value)
    {
        if (request.Arguments.Length > 0)
        {
            string? error = Drop.TryFind(request.Arguments[0], out int number, out MaildropEntry entry);
            await _writer.LineAsync(error ?? $"+OK {number} {value(entry)}").ConfigureAwait(false);
            return;
        }

        await _writer.LineAsync($"+OK {Drop.LiveCount} messages ({Drop.LiveSize} octets)").ConfigureAwait(false);
        foreach ((int number, MaildropEntry entry) in Drop.Live)
            await _writer.LineAsync($"{number} {value(entry)}").ConfigureAwait(false);
        await _writer.LineAsync(".").ConfigureAwait(false);
    }

    private ValueTask RetrAsync(Pop3Request request) => SendMessageAsync(request, bodyLines: -1);

    private ValueTask TopAsync(Pop3Request request)
    {
        if (request.Arguments.Length < 2 || !long.TryParse(request.Arguments[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long lines))
            return _writer.LineAsync("-ERR TOP needs a message number and a line count.");
        return SendMessageAsync(request, lines);
    }

    private ValueTask DeleAsync(Pop3Request request)
    {
        if (Drop.TryFind(request.Arguments.FirstOrDefault() ?? "", out int number, out _) is { } error)
            return _writer.LineAsync(error);
        if (_user!.Mailbox.IsReadOnly)
            return _writer.LineAsync("-ERR [SYS/PERM] This mailbox is read-only: nothing can be deleted.");
        Drop.Delete(number);
        return _writer.LineAsync($"+OK Message {number} deleted.");
    }

    private ValueTask RsetAsync(Pop3Request request)
    {
        Drop.Reset();
        return _writer.LineAsync($"+OK {Drop.LiveCount} messages ({Drop.LiveSize} octets)");
    }

    private ValueTask NoopAsync(Pop3Request request) => _writer.LineAsync("+OK");

    private async ValueTask QuitAsync(Pop3Request request)
    {
        if (_state == SessionState.Transaction)
        {
            try
            {
                await CommitAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _state = SessionState.Closed;
                ReleaseMailbox();
                await _writer.LineAsync("-ERR [SYS/TEMP] Some deleted messages were not removed: " + e.Message.ReplaceLineEndings(" ")).ConfigureAwait(false);
                return;
            }
        }

        // Unlocked before the reply: a client that logs in again right after +OK must not find it locked.
        _state = SessionState.Closed;
        ReleaseMailbox();
        await _writer.LineAsync("+OK Logging out.").ConfigureAwait(false);
    }

    /// <summary>The UPDATE state: the mailbox removes what was marked. Runs once.</summary>
    private async ValueTask CommitAsync()
    {
        Maildrop drop = Drop;
        _state = SessionState.Closed;
        IReadOnlyList<Pop3MailboxMessage> deleted = drop.Deleted;
        if (deleted.Count > 0)
            await _user!.Mailbox.CommitAsync(deleted, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>RETR and TOP: the status line, the message streamed in wire form, the terminating dot.</summary>
    private async ValueTask SendMessageAsync(Pop3Request request, long bodyLines)
    {
        if (Drop.TryFind(request.Arguments.FirstOrDefault() ?? "", out int number, out MaildropEntry entry) is { } error)
        {
            await _writer.LineAsync(error).ConfigureAwait(false);
            return;
        }

        Stream source;
        try
        {
            source = entry.Message.OpenRead();
            if (_faults.ShapesContent(entry, bodyLines))
            {
                // Read whole, changed as the faults say (From quoting, X-UIDL, TOP's extra line).
                var stored = new MemoryStream();
                await using (source.ConfigureAwait(false))
                    await source.CopyToAsync(stored, _shutdown).ConfigureAwait(false);
                source = new MemoryStream(_faults.ShapeContent(entry, stored.ToArray(), bodyLines), writable: false);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await _writer.LineAsync("-ERR [SYS/TEMP] The message cannot be read: " + e.Message.ReplaceLineEndings(" ")).ConfigureAwait(false);
            return;
        }

        await using (source.ConfigureAwait(false))
        {
            await _writer.LineAsync(bodyLines < 0 ? $"+OK {entry.ReportedSize} octets" : "+OK").ConfigureAwait(false);
            await SendBodyAsync(source, new MessageFormatter(_writer.LineEnding, dotStuff: true, _faults.TopLines(bodyLines)), _faults.BodyCutoff(number)).ConfigureAwait(false);
        }

        await _writer.LineAsync(".").ConfigureAwait(false);
    }

    private async ValueTask SendBodyAsync(Stream source, MessageFormatter formatter, long? cutoff)
    {
        byte[] input = ArrayPool<byte>.Shared.Rent(ChunkSize);
        byte[] output = ArrayPool<byte>.Shared.Rent(MessageFormatter.MaxOutputLength(ChunkSize));
        try
        {
            long sent = 0;
            int read;
            while (!formatter.IsComplete && (read = await source.ReadAsync(input.AsMemory(0, ChunkSize), _shutdown).ConfigureAwait(false)) > 0)
                sent = await SendBodyChunkAsync(output, formatter.Transform(input.AsSpan(0, read), output), sent, cutoff).ConfigureAwait(false);
            sent = await SendBodyChunkAsync(output, formatter.Finish(output), sent, cutoff).ConfigureAwait(false);
            if (cutoff is not null)
                await CutAsync().ConfigureAwait(false); // the whole body went out, but never the terminating dot
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(input);
            ArrayPool<byte>.Shared.Return(output);
        }
    }

    private async ValueTask<long> SendBodyChunkAsync(byte[] chunk, int length, long sent, long? cutoff)
    {
        if (cutoff is { } limit && sent + length > limit)
        {
            await _writer.WriteAsync(chunk.AsMemory(0, (int)(limit - sent))).ConfigureAwait(false);
            await CutAsync().ConfigureAwait(false);
        }

        await _writer.WriteAsync(chunk.AsMemory(0, length)).ConfigureAwait(false);
        return sent + length;
    }

    private async ValueTask CutAsync()
    {
        await _writer.FlushAsync().ConfigureAwait(false);
        throw new ConnectionCutException();
    }
}
