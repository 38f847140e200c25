using Poplib.Commands;

namespace Poplib.Engine;

/// <summary>
/// One command of a batch: what to send, which message it is about, how big its reply may be, whether
/// a body follows its +OK, and for TOP the number of body lines asked for.
/// </summary>
internal readonly record struct BatchCommand(Pop3Command Command, int Number, long ExpectedSize, bool HasBody, int? TopLines = null);

/// <summary>
/// Runs a batch of commands with RFC 2449 pipelining: keeps up to a window of commands in flight
/// (bounded by count and, where message sizes are known, by the bytes their replies will bring),
/// tops the window up as replies are read, writing the new commands together just before the client
/// would wait for the network, and reads the replies in order. Replies are handed out one at a
/// time; a message body is streamed to the caller and whatever is left of it is skipped before the
/// next reply. Without PIPELINING the window is one command (lockstep). Memory is bounded by the
/// window, not by the batch: the batch's commands are pulled lazily from the caller's sequence.
/// </summary>
internal sealed class Pop3Pipeline
{
    private readonly Pop3Connection _connection;
    private readonly IEnumerator<BatchCommand> _commands;
    private readonly Queue<BatchCommand> _inFlight = new();
    private readonly List<BatchCommand> _queued = [];
    private readonly int _maxCommands;
    private readonly long _maxBytes;
    private long _bytesInFlight;
    private BatchCommand? _next;
    private bool _exhausted;

    public Pop3Pipeline(Pop3Connection connection, IEnumerable<BatchCommand> commands, int maxCommands, long maxBytes)
    {
        _connection = connection;
        _commands = commands.GetEnumerator();
        _maxCommands = maxCommands;
        _maxBytes = maxBytes;
    }

    /// <summary>
    /// Reads the next reply (refilling the window first). Returns the command and its reply, with the
    /// body begun when there is one, or null when the batch is done.
    /// </summary>
    public async ValueTask<(BatchCommand Command, Pop3Response Response)?> NextAsync(bool async, CancellationToken cancellationToken)
    {
        if (_connection.InBody)
            await _connection.SkipBodyAsync(async, cancellationToken).ConfigureAwait(false);
        // A cancelled batch stops here, between replies, where the session is still in step (the
        // replies owed are drained by the caller's end of the batch).
        cancellationToken.ThrowIfCancellationRequested();
        Refill();
        if (_inFlight.Count == 0)
            return null;

        BatchCommand command = _inFlight.Dequeue();
        _bytesInFlight -= command.ExpectedSize;
        _connection.StartDeadline();
        Pop3Response response = await _connection.ReadResponseAsync(async, cancellationToken).ConfigureAwait(false);
        if (response.IsOk && command.HasBody)
            _connection.BeginBody(command.TopLines);
        return (command, response);
    }

    /// <summary>
    /// Reads and drops the replies still owed for commands already sent, so the session stays in step
    /// when the caller stops early. If that fails, the connection is closed.
    /// </summary>
    public async ValueTask DrainAsync(bool async, CancellationToken cancellationToken)
    {
        _commands.Dispose();
        if (!_connection.IsOpen)
            return;
        if (_connection.InBody)
            await _connection.SkipBodyAsync(async, cancellationToken).ConfigureAwait(false);
        while (_inFlight.TryDequeue(out BatchCommand command))
        {
            _connection.StartDeadline();
            Pop3Response response = await _connection.ReadResponseAsync(async, cancellationToken).ConfigureAwait(false);
            if (response.IsOk && command.HasBody)
            {
                _connection.BeginBody(command.TopLines);
                await _connection.SkipBodyAsync(async, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    // Tops the window up. The commands are only queued on the connection, which writes them just
    // before it next reads from the network: replies already buffered are consumed first, and the
    // refills for all of them go out together, in one write, when the client would otherwise wait.
    private void Refill()
    {
        _queued.Clear();
        long queuedBytes = 0;
        while (_inFlight.Count + _queued.Count < _maxCommands && TryPeek(out BatchCommand command))
        {
            // The byte bound admits at least one command, however large its message.
            bool first = _inFlight.Count + _queued.Count == 0;
            if (!first && _bytesInFlight + queuedBytes + command.ExpectedSize > _maxBytes)
                break;
            _next = null;
            _queued.Add(command);
            queuedBytes += command.ExpectedSize;
        }

        // Queued only once the caller's sequence has yielded them all: if it throws, nothing half-made
        // is left in the write buffer to go out with a later command.
        foreach (BatchCommand command in _queued)
        {
            _connection.Enqueue(command.Command);
            _inFlight.Enqueue(command);
        }

        _bytesInFlight += queuedBytes;
        _queued.Clear();
    }

    private bool TryPeek(out BatchCommand command)
    {
        if (_next is null && !_exhausted)
        {
            if (_commands.MoveNext())
                _next = _commands.Current;
            else
                _exhausted = true;
        }

        command = _next.GetValueOrDefault();
        return _next is not null;
    }
}

