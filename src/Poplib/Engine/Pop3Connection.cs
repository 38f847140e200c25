using System.Buffers;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Poplib.Certificates;
using Poplib.Commands;
using Poplib.Diagnostics;
using Poplib.Framing;
using Poplib.Transport;

namespace Poplib.Engine;

/// <summary>
/// The protocol engine under a <see cref="Pop3Client"/>: sends commands, reads replies, listings and
/// bodies through the framing layer, and is the one place that closes the connection on a fatal
/// error. Any failure during I/O or framing — a timeout, a cancellation, a malformed reply, the server
/// hanging up — leaves the stream in an unknown place, so the connection is closed and every later
/// call fails fast. A <c>-ERR</c> is not such a failure: the session goes on.
/// </summary>
internal sealed class Pop3Connection : IDisposable
{
    private readonly Pop3Transport _transport;
    private readonly Pop3Reader _reader;
    private readonly Pop3Transcript _transcript;
    private byte[] _writeBuffer = new byte[256];
    private int _pending;
    private bool _pendingSecret;
    private long _bodyOctets;
    private readonly long _maxListingOctets;
    private readonly long _maxTopExcess;
    private long _listingOctets;
    private Exception? _closeReason;
    private bool _closedByCaller;
    private bool _disposed;

    public Pop3Connection(Pop3Transport transport, Pop3ClientOptions options, Pop3Transcript transcript)
    {
        _transport = transport;
        _transcript = transcript;
        _reader = new Pop3Reader(transport, options.MaxLineLength);
        _maxListingOctets = options.MaxListingOctets;
        _maxTopExcess = options.MaxTopExcessOctets;
        _reader.BeforeNetworkRead = FlushQueuedAsync;
    }

    /// <summary>The client, for audit events.</summary>
    public Pop3Client? Owner { get; set; }

    /// <summary>Whether reply text is decoded strictly as UTF-8 (after the UTF8 command).</summary>
    public bool Utf8Mode { get; set; }

    public bool IsOpen => !_disposed && _closeReason is null;

    public bool IsEncrypted => _transport.IsEncrypted;

    public SslStream? SslStream => _transport.SslStream;

    /// <summary>The server's certificate and the rest of its chain, as checked in the TLS handshake; empty before TLS.</summary>
    public IReadOnlyList<X509Certificate2> CertificateChain { get; private set; } = [];

    public Pop3Transcript Transcript => _transcript;

    public void ThrowIfClosed()
    {
        ObjectDisposedException.ThrowIf(_disposed, typeof(Pop3Client));
        if (_closeReason is { } reason)
            throw ClosedError(reason);
    }

    /// <summary>
    /// What a call on the closed connection throws. Callers sort errors by type (connect again? give
    /// up on this server? fix the calling code?), so a connection closed by a failure is reported as
    /// that failure's kind, with the failure inside: a timeout as a <see cref="TimeoutException"/>,
    /// anything else the server or the network did as a <see cref="Pop3ProtocolException"/>. Only
    /// what the caller did (QUIT, a cancellation, a reply left half-read) is a usage error. A batch
    /// that fails while draining after the caller stopped early relies on this: it does not throw
    /// from the caller's loop exit, the next call does.
    /// </summary>
    private Exception ClosedError(Exception reason)
    {
        string message = $"The POP3 connection was closed earlier: {reason.Message}";
        return _closedByCaller ? new InvalidOperationException(message, reason)
            : reason is TimeoutException ? new TimeoutException(message, reason)
            : new Pop3ProtocolException(message, reason);
    }

    /// <summary>Sends one command at once: <see cref="Enqueue"/> and <see cref="FlushAsync"/>.</summary>
    public ValueTask SendAsync(Pop3Command command, bool async, CancellationToken cancellationToken)
    {
        Enqueue(command);
        return FlushAsync(async, cancellationToken);
    }

    /// <summary>
    /// Adds a command to the write buffer without sending it, so that a pipelined batch goes out in
    /// one write (RFC 2449 PIPELINING). The command counts as sent for audit and transcript now.
    /// Queued commands go out with the next <see cref="FlushAsync"/> or, at the latest, just before
    /// the next read from the network: the client never waits for a reply while holding a command.
    /// </summary>
    public void Enqueue(Pop3Command command)
    {
        ThrowIfClosed();
        // The masked text is made only for someone who will see it: a batch sends many commands.
        if (_transcript.WantsCommands || Pop3Diagnostics.WantsPutLine)
        {
            string shown = command.ToString();
            Pop3Diagnostics.OnPutLine(Owner, shown);
            _transcript.Sent(shown);
        }

        int size = command.ByteCount;
        if (_writeBuffer.Length - _pending < size)
            Array.Resize(ref _writeBuffer, Math.Max(_pending + size, _writeBuffer.Length * 2));
        _pending += command.Write(_writeBuffer.AsSpan(_pending));
        _pendingSecret |= command.SecretArgument != 0;
    }

    /// <summary>
    /// Writes every queued command in one write. Sending in lockstep (a command, or a group such as
    /// PASS and CAPA) starts the budget of waiting for its replies (<see cref="Pop3ClientOptions.CommandTimeout"/>).
    /// </summary>
    public ValueTask FlushAsync(bool async, CancellationToken cancellationToken)
    {
        _transport.StartDeadline();
        return WriteQueuedAsync(async, cancellationToken);
    }

    /// <summary>
    /// Starts the budget of waiting for the next reply of a pipelined batch: each message has its
    /// own, and the commands queued meanwhile go out within it.
    /// </summary>
    public void StartDeadline() => _transport.StartDeadline();

    private async ValueTask WriteQueuedAsync(bool async, CancellationToken cancellationToken)
    {
        ThrowIfClosed();
        if (_pending == 0)
            return;
        // Before anything is written the session is still in step: a cancelled token need not cost the connection.
        if (cancellationToken.IsCancellationRequested)
        {
            Discard();
            cancellationToken.ThrowIfCancellationRequested();
        }

        try
        {
            await _transport.WriteAsync(_writeBuffer.AsMemory(0, _pending), async, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Close(e);
            throw;
        }
        finally
        {
            Discard();
        }
    }

    // Before a read from the network: whatever is queued goes out first.
    private ValueTask FlushQueuedAsync(bool async, CancellationToken cancellationToken) =>
        _pending == 0 ? default : WriteQueuedAsync(async, cancellationToken);

    private void Discard()
    {
        if (_pendingSecret)
            CryptographicOperations.ZeroMemory(_writeBuffer.AsSpan(0, _pending));
        _pending = 0;
        _pendingSecret = false;
    }

    public async ValueTask<Pop3Response> ReadResponseAsync(bool async, CancellationToken cancellationToken)
    {
        (Pop3Response? status, _) = await ReadReplyAsync(allowChallenge: false, async, cancellationToken).ConfigureAwait(false);
        return status!;
    }

    /// <summary>
    /// Reads a reply during an AUTH exchange (RFC 5034): a status line, or a server challenge
    /// (<c>+ base64</c>), returned as its base64 text.
    /// </summary>
    public ValueTask<(Pop3Response? Status, string? Challenge)> ReadAuthReplyAsync(bool async, CancellationToken cancellationToken) =>
        ReadReplyAsync(allowChallenge: true, async, cancellationToken);

    private async ValueTask<(Pop3Response? Status, string? Challenge)> ReadReplyAsync(bool allowChallenge, bool async, CancellationToken cancellationToken)
    {
        ThrowIfClosed();
        try
        {
            if (_reader.BufferedCount == 0)
            {
                // Written before the quick-ACK flag is set: sending can put the socket back into delayed-ACK mode.
                await FlushQueuedAsync(async, cancellationToken).ConfigureAwait(false);
                _transport.ArmQuickAck();
            }
            ReadOnlyMemory<byte> line = await _reader.ReadLineAsync(async, cancellationToken).ConfigureAwait(false);
            // A status line starts a reply: the lines of a listing that may follow are counted afresh.
            _listingOctets = 0;
            if (ReplyParser.TryParseStatus(line.Span, Utf8Mode) is { } response)
            {
                _transcript.ReceivedStatus(response.Line);
                return (response, null);
            }

            if (allowChallenge && ReplyParser.TryParseChallenge(line.Span) is { } challenge)
            {
                _transcript.ReceivedStatus("+ " + challenge);
                return (null, challenge);
            }

            throw new Pop3ProtocolException(allowChallenge
                ? $"The server sent a reply that is neither +OK, -ERR nor a SASL challenge: \"{ServerText.Escape(line.Span)}\"."
                : $"The server sent a reply that is neither +OK nor -ERR: \"{ServerText.Escape(line.Span)}\".");
        }
        catch (Exception e)
        {
            Close(e);
            throw;
        }
    }

    /// <summary>Sends a command and reads its status line; <c>-ERR</c> becomes <see cref="Pop3CommandException"/>.</summary>
    public async ValueTask<Pop3Response> ExecuteAsync(Pop3Command command, bool async, CancellationToken cancellationToken)
    {
        await SendAsync(command, async, cancellationToken).ConfigureAwait(false);
        Pop3Response response = await ReadResponseAsync(async, cancellationToken).ConfigureAwait(false);
        return response.IsOk ? response : throw new Pop3CommandException(command.Verb, response);
    }

    /// <summary>
    /// Reads the next line of a multi-line listing, dot-unstuffed, or returns null at the terminating
    /// '.'. The line points into the read buffer and is valid until the next read. A line already
    /// buffered is returned without an async state machine: listings run to millions of lines.
    /// </summary>
    public ValueTask<ReadOnlyMemory<byte>?> ReadListingLineAsync(bool async, CancellationToken cancellationToken)
    {
        ThrowIfClosed();
        try
        {
            if (_reader.TryReadLine(out ReadOnlyMemory<byte> line))
                return new ValueTask<ReadOnlyMemory<byte>?>(ListingLine(line));
        }
        catch (Exception e)
        {
            Close(e);
            throw;
        }

        return ReadListingLineSlowAsync(async, cancellationToken);
    }

    private async ValueTask<ReadOnlyMemory<byte>?> ReadListingLineSlowAsync(bool async, CancellationToken cancellationToken)
    {
        try
        {
            return ListingLine(await _reader.ReadLineAsync(async, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception e)
        {
            Close(e);
            throw;
        }
    }

    // Counts the line's octets against the listing's bound, removes dot-stuffing, spots the terminator.
    private ReadOnlyMemory<byte>? ListingLine(ReadOnlyMemory<byte> line)
    {
        _listingOctets += _reader.LastLineOctets;
        if (_listingOctets > _maxListingOctets)
            throw new Pop3LimitExceededException(nameof(Pop3ClientOptions.MaxListingOctets), _maxListingOctets, "The server sent a multi-line reply longer than the limit");
        if (line.Length > 0 && line.Span[0] == (byte)'.')
        {
            if (line.Length == 1)
                return null;
            line = line[1..];
        }

        if (_transcript.WantsListingLines)
            _transcript.ReceivedListingLine(ReplyParser.Decode(line.Span, Utf8Mode));
        return line;
    }

    /// <summary>Starts reading a message body; for TOP, <paramref name="topLines"/> is the number of body lines asked for.</summary>
    public void BeginBody(int? topLines = null)
    {
        _bodyOctets = 0;
        _reader.BeginBody(topLines, _maxTopExcess);
    }

    /// <summary>The octets of the current (or last) TOP body that the server sent past the lines asked for, dropped.</summary>
    public long BodyExcessOctets => _reader.ExcessOctets;

    public bool InBody => IsOpen && _reader.InBody;

    /// <summary>Reads the next dot-unstuffed bytes of the current body; 0 at its end.</summary>
    public async ValueTask<int> ReadBodyAsync(Memory<byte> destination, bool async, CancellationToken cancellationToken)
    {
        ThrowIfClosed();
        try
        {
            if (!_reader.InBody)
                return 0;
            int read = await _reader.ReadBodyAsync(destination, async, cancellationToken).ConfigureAwait(false);
            _bodyOctets += read;
            if (!_reader.InBody)
            {
                _transcript.ReceivedBody(_bodyOctets);
                if (_reader.ExcessOctets > 0)
                    _transcript.DroppedExcess(_reader.ExcessOctets);
            }

            return read;
        }
        catch (Exception e)
        {
            Close(e);
            throw;
        }
    }

    /// <summary>Reads and discards the rest of the current body, keeping the session usable.</summary>
    public async ValueTask SkipBodyAsync(bool async, CancellationToken cancellationToken)
    {
        if (!_reader.InBody)
            return;
        byte[] scratch = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            while (await ReadBodyAsync(scratch, async, cancellationToken).ConfigureAwait(false) > 0)
            {
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>Switches to TLS after the server's <c>+OK</c> to STLS.</summary>
    public async ValueTask StartTlsAsync(CertificateValidation validation, bool async, CancellationToken cancellationToken)
    {
        ThrowIfClosed();
        // Anything already received after "+OK" arrived in plaintext but would be read as if it came
        // over TLS: the STARTTLS command-injection attack (CVE-2011-0411 and kin). Never accept it.
        if (_reader.BufferedCount > 0)
            throw Fail($"The server sent {_reader.BufferedCount} unexpected bytes after its reply to STLS, before the TLS handshake; refusing them (possible STARTTLS injection).");
        try
        {
            await _transport.StartTlsAsync(validation.Options, async, cancellationToken).ConfigureAwait(false);
            CertificateChain = validation.Chain;
        }
        catch (Exception e)
        {
            // A certificate this client refused is said as such, with what the server presented.
            Exception error = validation.Refusal(e) ?? e;
            Close(error);
            if (ReferenceEquals(error, e))
                throw;
            throw error;
        }
    }

    /// <summary>Closes the connection for a protocol violation found above the framing layer, and returns the exception to throw.</summary>
    public Pop3ProtocolException Fail(string message) => Fail(new Pop3ProtocolException(message));

    /// <inheritdoc cref="Fail(string)"/>
    public TException Fail<TException>(TException error)
        where TException : Pop3ProtocolException
    {
        Close(error);
        return error;
    }

    /// <summary>Closes the connection because the caller abandoned the reply in progress half-read.</summary>
    public void Abandon(string reason) => Close(new InvalidOperationException($"The connection was closed because {reason}."), byCaller: true);

    /// <summary>Closes the connection on purpose (after QUIT), so later calls report why.</summary>
    public void CloseAfterQuit() => Close(new InvalidOperationException("the session ended with QUIT"), byCaller: true, quietly: true);

    private void Close(Exception reason, bool byCaller = false, bool quietly = false)
    {
        if (_closeReason is not null || _disposed)
            return;
        _closeReason = reason;
        // The caller's token is the only source of a cancellation here: the transport turns its own
        // timer into a TimeoutException.
        _closedByCaller = byCaller || reason is OperationCanceledException;
        if (!quietly)
            _transcript.Broken(reason.Message);
        _transport.Dispose();
        _reader.Dispose();
    }

    /// <summary>
    /// Closes the connection. <paramref name="commandInFlight"/> says another thread may still be
    /// inside a read: the read buffer is then left to the garbage collector rather than returned to
    /// the shared pool, where a late socket read could write into someone else's data.
    /// </summary>
    public void Dispose(bool commandInFlight)
    {
        if (_disposed)
            return;
        if (_closeReason is null)
        {
            _transport.Dispose();
            if (!commandInFlight)
                _reader.Dispose();
        }

        _disposed = true;
    }

    public void Dispose() => Dispose(commandInFlight: false);
}
