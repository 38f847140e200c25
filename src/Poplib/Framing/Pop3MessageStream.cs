using System.Buffers;
using System.Diagnostics;
using Poplib.Engine;

namespace Poplib;

/// <summary>
/// A read-only, forward-only stream over one message body as it arrives (from
/// <see cref="Pop3Client.OpenRetr(int)"/> or <see cref="Pop3Client.OpenTop(int, int)"/>): dot-unstuffed,
/// line endings as received, constant memory. It ends at the message's terminating line; if the
/// connection closes before, reading throws <see cref="Pop3ProtocolException"/> — never a silently
/// short message. The client runs no other command until the stream is disposed; disposing reads and
/// drops whatever is left of the message.
/// </summary>
public sealed class Pop3MessageStream : Stream
{
    private readonly Pop3Connection _connection;
    private IDisposable? _command;
    private long _position;

    private bool _open = true;
    private bool _excessDiscarded;

    /// <param name="connection">The connection whose current body this stream reads.</param>
    /// <param name="response">The +OK that preceded the body.</param>
    /// <param name="command">
    /// The client's command scope, released when the stream is disposed; null when a batch owns the
    /// scope (and cuts the stream off with <see cref="Detach"/> when it moves on).
    /// </param>
    internal Pop3MessageStream(Pop3Connection connection, Pop3Response response, IDisposable? command)
    {
        _connection = connection;
        _command = command;
        Response = response;
    }

    /// <summary>Ends the stream without touching the connection: its owner has moved on.</summary>
    internal void Detach()
    {
        _excessDiscarded = _connection.BodyExcessOctets > 0;
        _open = false;
    }

    /// <summary>
    /// Closes the connection for a protocol violation that a consumer of the stream found (a message
    /// past a limit it enforces), as the client's own forms do, and returns the exception to throw.
    /// </summary>
    internal TException Fail<TException>(TException error)
        where TException : Pop3ProtocolException => _connection.Fail(error);

    /// <summary>
    /// Closes the connection because the consumer stops reading for good (a cancellation): the rest of
    /// the message is not drained, and disposing the stream then only releases the client.
    /// </summary>
    internal void Abandon(string reason)
    {
        if (_open && _connection.InBody)
            _connection.Abandon(reason);
    }

    /// <summary>The server's <c>+OK</c> line that preceded the message.</summary>
    public Pop3Response Response { get; }

    /// <summary>
    /// For TOP: whether the server sent more than the header and the lines asked for, which this
    /// stream did not return (see <see cref="Pop3Message.ExcessDiscarded"/>). Final once the stream
    /// has been read to its end or disposed.
    /// </summary>
    public bool ExcessDiscarded => _open ? _connection.BodyExcessOctets > 0 : _excessDiscarded;

    /// <inheritdoc/>
    public override bool CanRead => _open;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <inheritdoc/>
    public override bool CanWrite => false;

    /// <inheritdoc/>
    public override long Length => throw new NotSupportedException("The length of a POP3 message is known only once it has been read.");

    /// <summary>The number of octets read so far. Setting it is not supported.</summary>
    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        return Complete(ReadCoreAsync(buffer.AsMemory(offset, count), async: false, CancellationToken.None));
    }

    /// <inheritdoc/>
    public override int Read(Span<byte> buffer)
    {
        // The framing layer reads into Memory; a Span has to go through a pooled array.
        byte[] rented = ArrayPool<byte>.Shared.Rent(buffer.Length);
        try
        {
            int read = Complete(ReadCoreAsync(rented.AsMemory(0, buffer.Length), async: false, CancellationToken.None));
            rented.AsSpan(0, read).CopyTo(buffer);
            return read;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <inheritdoc/>
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ReadCoreAsync(buffer, async: true, cancellationToken);

    /// <inheritdoc/>
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return ReadCoreAsync(buffer.AsMemory(offset, count), async: true, cancellationToken).AsTask();
    }

    private async ValueTask<int> ReadCoreAsync(Memory<byte> buffer, bool async, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(!_open, this);
        int read = await _connection.ReadBodyAsync(buffer, async, cancellationToken).ConfigureAwait(false);
        _position += read;
        return read;
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing && _open)
            Complete(DrainAsync(async: false));
        base.Dispose(disposing);
    }

    /// <inheritdoc/>
    public override async ValueTask DisposeAsync()
    {
        if (_open)
            await DrainAsync(async: true).ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    private async ValueTask<int> DrainAsync(bool async)
    {
        _open = false;
        IDisposable? command = _command;
        _command = null;
        try
        {
            if (_connection.IsOpen)
                await _connection.SkipBodyAsync(async, CancellationToken.None).ConfigureAwait(false);
            _excessDiscarded = _connection.BodyExcessOctets > 0;
        }
        finally
        {
            command?.Dispose();
        }

        return 0;
    }

    private static int Complete(ValueTask<int> task)
    {
        Debug.Assert(task.IsCompleted, "The synchronous path must complete synchronously.");
        return task.GetAwaiter().GetResult();
    }

    /// <inheritdoc/>
    public override void Flush()
    {
    }

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
