using System.Runtime.CompilerServices;
using Poplib.Commands;
using Poplib.Engine;

namespace Poplib;

public sealed partial class Pop3Client
{
    /// <summary>
    /// RETR for many messages, pipelined (RFC 2449) when the server advertises PIPELINING: up to
    /// <see cref="Pop3ClientOptions.PipelineWindow"/> commands in flight, refilled as replies arrive.
    /// Messages are yielded in order, each as a stream to read before moving on; a <c>-ERR</c> for one
    /// message is reported in its item and never discards the others. Memory is bounded by the window,
    /// not by the number of messages. Stopping early reads and drops the replies still owed.
    /// </summary>
    public IEnumerable<Pop3BatchMessage> RetrMany(IEnumerable<int> numbers)
    {
        ArgumentNullException.ThrowIfNull(numbers);
        return RunMessages("RETR", numbers.Select(n => MessageCommand(n, null, 0)));
    }

    /// <summary>
    /// RETR for the listed messages (from <see cref="List()"/>), pipelined; their sizes also bound the
    /// octets in flight (<see cref="Pop3ClientOptions.PipelineMaxBytes"/>). See <see cref="RetrMany(IEnumerable{int})"/>.
    /// </summary>
    public IEnumerable<Pop3BatchMessage> RetrMany(IEnumerable<Pop3ListEntry> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        return RunMessages("RETR", messages.Select(m => MessageCommand(m.Number, null, m.Size)));
    }

    /// <inheritdoc cref="RetrMany(IEnumerable{int})"/>
    public IAsyncEnumerable<Pop3BatchMessage> RetrManyAsync(IEnumerable<int> numbers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(numbers);
        return RunMessagesAsync("RETR", numbers.Select(n => MessageCommand(n, null, 0)), cancellationToken);
    }

    /// <inheritdoc cref="RetrMany(IEnumerable{Pop3ListEntry})"/>
    public IAsyncEnumerable<Pop3BatchMessage> RetrManyAsync(IEnumerable<Pop3ListEntry> messages, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        return RunMessagesAsync("RETR", messages.Select(m => MessageCommand(m.Number, null, m.Size)), cancellationToken);
    }

    /// <summary>TOP for many messages, pipelined; see <see cref="RetrMany(IEnumerable{int})"/>.</summary>
    public IEnumerable<Pop3BatchMessage> TopMany(IEnumerable<int> numbers, int lines)
    {
        ArgumentNullException.ThrowIfNull(numbers);
        ArgumentOutOfRangeException.ThrowIfNegative(lines);
        return RunMessages("TOP", numbers.Select(n => MessageCommand(n, lines, 0)));
    }

    /// <inheritdoc cref="TopMany(IEnumerable{int}, int)"/>
    public IAsyncEnumerable<Pop3BatchMessage> TopManyAsync(IEnumerable<int> numbers, int lines, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(numbers);
        ArgumentOutOfRangeException.ThrowIfNegative(lines);
        return RunMessagesAsync("TOP", numbers.Select(n => MessageCommand(n, lines, 0)), cancellationToken);
    }

    /// <summary>
    /// DELE for many messages, pipelined, with one outcome per message (a <c>-ERR</c> for one does not
    /// stop the others). As with <see cref="Dele"/>, nothing is deleted until <see cref="Quit"/>.
    /// </summary>
    public IReadOnlyList<Pop3BatchItem> DeleMany(IEnumerable<int> numbers) => RunSync(DeleManyCoreAsync(numbers, async: false, CancellationToken.None));

    /// <inheritdoc cref="DeleMany"/>
    public Task<IReadOnlyList<Pop3BatchItem>> DeleManyAsync(IEnumerable<int> numbers, CancellationToken cancellationToken = default) =>
        DeleManyCoreAsync(numbers, async: true, cancellationToken).AsTask();

    private static BatchCommand MessageCommand(int number, int? lines, long size)
    {
        BodyRequest request = BodyCommand(number, lines);
        return new BatchCommand(request.Command, number, size, HasBody: true, request.TopLines);
    }

    private IEnumerable<Pop3BatchMessage> RunMessages(string verb, IEnumerable<BatchCommand> commands)
    {
        var batch = new MessageBatch(this, verb, commands);
        try
        {
            while (RunSync(batch.NextAsync(async: false, CancellationToken.None)) is { } message)
                yield return message;
        }
        finally
        {
            RunSync(batch.EndAsync(async: false));
        }
    }

    private async IAsyncEnumerable<Pop3BatchMessage> RunMessagesAsync(string verb, IEnumerable<BatchCommand> commands, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var batch = new MessageBatch(this, verb, commands);
        try
        {
            while (await batch.NextAsync(async: true, cancellationToken).ConfigureAwait(false) is { } message)
                yield return message;
        }
        finally
        {
            await batch.EndAsync(async: true).ConfigureAwait(false);
        }
    }

    private async ValueTask<IReadOnlyList<Pop3BatchItem>> DeleManyCoreAsync(IEnumerable<int> numbers, bool async, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(numbers);
        var batch = new MessageBatch(this, "DELE", numbers.Select(n =>
        {
            ValidateMessageNumber(n, nameof(numbers));
            return new BatchCommand(Pop3Command.Create("DELE", Number(n)), n, 0, HasBody: false);
        }));
        var results = new List<Pop3BatchItem>();
        try
        {
            while (await batch.NextAsync(async, cancellationToken).ConfigureAwait(false) is { } item)
            {
                results.Add(item);
                if (item.IsOk)
                    _deletedInSession++;
            }
        }
        finally
        {
            await batch.EndAsync(async).ConfigureAwait(false);
        }

        return results;
    }

    /// <summary>
    /// One batch's hold on the client: the command scope (one batch or command at a time), the
    /// pipeline, and the current message's stream, which is cut off when the batch moves on so that
    /// it can never read the next message's bytes.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "The message streams hold no resources of their own; EndAsync detaches them.")]
    private sealed class MessageBatch(Pop3Client client, string verb, IEnumerable<BatchCommand> commands)
    {
        private CommandScope? _scope;
        private Pop3Pipeline? _pipeline;
        private Pop3MessageStream? _current;

        public async ValueTask<Pop3BatchMessage?> NextAsync(bool async, CancellationToken cancellationToken)
        {
            if (_pipeline is null)
            {
                _scope = client.Begin(verb, Pop3SessionState.Transaction);
                int window = client.Capabilities.Pipelining ? client._options.PipelineWindow : 1;
                _pipeline = new Pop3Pipeline(client._connection, commands, window, client._options.PipelineMaxBytes);
            }

            _current?.Detach();
            _current = null;
            if (await _pipeline.NextAsync(async, cancellationToken).ConfigureAwait(false) is not { } next)
                return null;
            if (next.Response.IsOk && next.Command.HasBody)
                _current = new Pop3MessageStream(client._connection, next.Response, command: null);
            return new Pop3BatchMessage(next.Command.Number, next.Response, next.Command.Command.Verb, _current);
        }

        public async ValueTask EndAsync(bool async)
        {
            _current?.Detach();
            try
            {
                if (_pipeline is not null)
                    await _pipeline.DrainAsync(async, CancellationToken.None).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // A failed drain has already closed the connection; the caller's own exception, if any, matters more.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
            finally
            {
                _scope?.Dispose();
            }
        }
    }
}
