using System.Buffers;
using Poplib.Commands;
using Poplib.Framing;

namespace Poplib;

public sealed partial class Pop3Client
{
    // Large copies make few reads and writes; the buffer is pooled.
    private const int CopyBufferSize = 64 * 1024;

    /// <summary>
    /// RETR into memory (poplib's <c>retr</c>): the whole message, dot-unstuffed, with its lines and
    /// octet count. Bounded by <see cref="Pop3ClientOptions.MaxInMemoryMessageSize"/>; use
    /// <see cref="RetrTo(int, Stream)"/> or <see cref="OpenRetr(int)"/> for messages of any size.
    /// </summary>
    public Pop3Message Retr(int number) => RunSync(ReadMessageCoreAsync(BodyCommand(number, null), async: false, CancellationToken.None));

    /// <inheritdoc cref="Retr(int)"/>
    public Task<Pop3Message> RetrAsync(int number, CancellationToken cancellationToken = default) =>
        ReadMessageCoreAsync(BodyCommand(number, null), async: true, cancellationToken).AsTask();

    /// <summary>
    /// RETR, streaming the raw message (dot-unstuffed, line endings as received) into
    /// <paramref name="destination"/> in constant memory. Returns the number of octets written.
    /// If writing to the destination fails, the rest of the message is read and dropped so the
    /// session stays usable, and the destination's exception is rethrown.
    /// </summary>
    public long RetrTo(int number, Stream destination) =>
        RunSync(CopyMessageCoreAsync(BodyCommand(number, null), destination, async: false, CancellationToken.None));

    /// <inheritdoc cref="RetrTo(int, Stream)"/>
    public Task<long> RetrToAsync(int number, Stream destination, CancellationToken cancellationToken = default) =>
        CopyMessageCoreAsync(BodyCommand(number, null), destination, async: true, cancellationToken).AsTask();

    /// <summary>
    /// RETR as a read-only stream over the message as it arrives (dot-unstuffed, constant memory).
    /// Dispose the stream before the next command: disposing reads and drops whatever is left of the
    /// message, so the session stays usable.
    /// </summary>
    public Pop3MessageStream OpenRetr(int number) => RunSync(OpenMessageCoreAsync(BodyCommand(number, null), async: false, CancellationToken.None));

    /// <inheritdoc cref="OpenRetr(int)"/>
    public Task<Pop3MessageStream> OpenRetrAsync(int number, CancellationToken cancellationToken = default) =>
        OpenMessageCoreAsync(BodyCommand(number, null), async: true, cancellationToken).AsTask();

    /// <summary>
    /// TOP into memory (poplib's <c>top</c>): the header and the first <paramref name="lines"/> lines of
    /// the body. Unlike RETR, TOP does not mark the message as seen. Poorly specified and sometimes
    /// broken on off-brand servers; check <see cref="Pop3Capabilities.Top"/>. Every TOP form gives at
    /// most what was asked for: a server that sends more has the rest read and dropped
    /// (<see cref="Pop3Message.ExcessDiscarded"/>, bounded by <see cref="Pop3ClientOptions.MaxTopExcessOctets"/>).
    /// </summary>
    public Pop3Message Top(int number, int lines) => RunSync(ReadMessageCoreAsync(BodyCommand(number, lines), async: false, CancellationToken.None));

    /// <inheritdoc cref="Top(int, int)"/>
    public Task<Pop3Message> TopAsync(int number, int lines, CancellationToken cancellationToken = default) =>
        ReadMessageCoreAsync(BodyCommand(number, lines), async: true, cancellationToken).AsTask();

    /// <summary>TOP, streaming into <paramref name="destination"/>; see <see cref="RetrTo(int, Stream)"/>.</summary>
    public long TopTo(int number, int lines, Stream destination) =>
        RunSync(CopyMessageCoreAsync(BodyCommand(number, lines), destination, async: false, CancellationToken.None));

    /// <inheritdoc cref="TopTo(int, int, Stream)"/>
    public Task<long> TopToAsync(int number, int lines, Stream destination, CancellationToken cancellationToken = default) =>
        CopyMessageCoreAsync(BodyCommand(number, lines), destination, async: true, cancellationToken).AsTask();

    /// <summary>TOP as a read-only stream; see <see cref="OpenRetr(int)"/>.</summary>
    public Pop3MessageStream OpenTop(int number, int lines) => RunSync(OpenMessageCoreAsync(BodyCommand(number, lines), async: false, CancellationToken.None));

    /// <inheritdoc cref="OpenTop(int, int)"/>
    public Task<Pop3MessageStream> OpenTopAsync(int number, int lines, CancellationToken cancellationToken = default) =>
        OpenMessageCoreAsync(BodyCommand(number, lines), async: true, cancellationToken).AsTask();

    /// <summary>A RETR or TOP command, and for TOP the number of body lines asked for (the most the client gives).</summary>
    private readonly record struct BodyRequest(Pop3Command Command, int? TopLines);

    /// <summary>RETR n, or TOP n lines when <paramref name="lines"/> is given.</summary>
    private static BodyRequest BodyCommand(int number, int? lines)
    {
        ValidateMessageNumber(number);
        if (lines is not int count)
            return new BodyRequest(Pop3Command.Create("RETR", Number(number)), null);
        ArgumentOutOfRangeException.ThrowIfNegative(count, nameof(lines));
        return new BodyRequest(Pop3Command.Create("TOP", Number(number), Number(count)), count);
    }

    private async ValueTask<Pop3Response> StartBodyAsync(BodyRequest request, bool async, CancellationToken cancellationToken)
    {
        Pop3Response response = await _connection.ExecuteAsync(request.Command, async, cancellationToken).ConfigureAwait(false);
        _connection.BeginBody(request.TopLines);
        return response;
    }

    private async ValueTask<Pop3Message> ReadMessageCoreAsync(BodyRequest request, bool async, CancellationToken cancellationToken)
    {
        using CommandScope scope = Begin(request.Command.Verb, Pop3SessionState.Transaction);
        Pop3Response response = await StartBodyAsync(request, async, cancellationToken).ConfigureAwait(false);
        bool retr = request.TopLines is null;
        // Only RETR's announced size is the size of what follows; TOP sends a part of the message.
        long? announced = retr && ReplyParser.TryParseAnnouncedSize(response.Text, out long octets) ? octets : null;
        ReadOnlyMemory<byte> content = await MessageCollector.ReadAsync(_connection, announced, _options.MaxInMemoryMessageSize,
            retr ? "RetrTo or OpenRetr" : "TopTo or OpenTop", async, cancellationToken).ConfigureAwait(false);
        return new Pop3Message(response, content, excessDiscarded: _connection.BodyExcessOctets > 0);
    }

    private async ValueTask<long> CopyMessageCoreAsync(BodyRequest request, Stream destination, bool async, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (!destination.CanWrite)
            throw new ArgumentException("The destination stream is not writable.", nameof(destination));
        using CommandScope scope = Begin(request.Command.Verb, Pop3SessionState.Transaction);
        await StartBodyAsync(request, async, cancellationToken).ConfigureAwait(false);

        byte[] buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        long total = 0;
        try
        {
            int read;
            while ((read = await _connection.ReadBodyAsync(buffer, async, cancellationToken).ConfigureAwait(false)) > 0)
            {
                try
                {
                    if (async)
                        await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    else
                        destination.Write(buffer, 0, read);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The destination failed, not the server: finish reading the message so the
                    // session stays in step, then report the destination's error. (On cancellation
                    // the caller wants out at once: the command scope closes the connection instead.)
                    await _connection.SkipBodyAsync(async, cancellationToken).ConfigureAwait(false);
                    throw;
                }

                total += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return total;
    }

    private async ValueTask<Pop3MessageStream> OpenMessageCoreAsync(BodyRequest request, bool async, CancellationToken cancellationToken)
    {
        CommandScope scope = Begin(request.Command.Verb, Pop3SessionState.Transaction);
        try
        {
            Pop3Response response = await StartBodyAsync(request, async, cancellationToken).ConfigureAwait(false);
            // The stream owns the command from here: the client stays busy until it is disposed.
            return new Pop3MessageStream(_connection, response, scope);
        }
        catch
        {
            scope.Dispose();
            throw;
        }
    }
}
