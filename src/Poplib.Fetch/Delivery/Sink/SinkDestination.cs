namespace Poplib.Fetch.Delivery;

/// <summary>Opens a <see cref="SinkDestination"/> per run.</summary>
internal sealed class SinkFetchDestination(IMessageSink sink, string name) : FetchDestination
{
    public override IMailDestination Open(AccountKey account) => new SinkDestination(sink, name, account);
}

/// <summary>
/// Hands each message to an application's <see cref="IMessageSink"/>: spooled privately (an unlinked
/// file: a crash leaves nothing), journaled as <c>Delivering</c>, handed over, then recorded as
/// delivered once the sink returned. Whether a sink finished before a crash cannot be known: an
/// interrupted row is forgotten and the message offered again (the sink's idempotence makes that safe).
/// </summary>
internal sealed class SinkDestination(IMessageSink sink, string name, AccountKey account) : SpooledDestination
{
    public override string Name => "sink:" + name;

    /// <summary>The account's display name, for <see cref="FetchedMessage.AccountName"/>; set by the engine.</summary>
    public string AccountName { get; set; } = account.ToString();

    /// <summary>How long the sink may take per message; set by the engine from the policy.</summary>
    public TimeSpan Timeout { get; set; } = FetchPolicy.DefaultSinkTimeout;

    /// <summary>Hands one message to the sink: null when it accepted it, the reason when it threw; a hang past the timeout stops the run.</summary>
    protected override async ValueTask<string?> DeliverAsync(StagedMessage message, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Timeout);
        try
        {
            message.File.Flush();
            message.File.Seek(0, SeekOrigin.Begin);
            using var content = new ReadOnlyContent(message.File, message.Content.Length);
            var fetched = new FetchedMessage(account, AccountName, message.Key, message.Content.Length, message.Content.MessageId, message.Outcome == MessageStatus.Truncated);
            // WaitAsync: a sink that ignores its token is left behind at the deadline, not waited for.
            await sink.AcceptAsync(fetched, content, deadline.Token).AsTask().WaitAsync(deadline.Token).ConfigureAwait(false);
            return null;
        }
        catch (OperationCanceledException e) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new FetchException(FetchFailure.Destination,
                $"the application sink did not accept message {message.Key} within {Timeout.TotalSeconds:0.###} s; it stays on the server and is offered again next run", e);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return $"the application sink failed for message {message.Key} ({e.GetType().Name}: {e.Message}); it stays on the server and is offered again next run";
        }
    }

    protected override string Interrupted(MessageKey key) =>
        $"the run was interrupted while the application sink had message {key}; it is offered again (an idempotent sink sees it once)";

    /// <summary>The spooled message, read-only, limited to its length; the sink may not close the spool under us.</summary>
    private sealed class ReadOnlyContent(FileStream file, long length) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int read = file.Read(buffer[..(int)Math.Min(buffer.Length, length - _position)]);
            _position += read;
            return read;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int read = await file.ReadAsync(buffer[..(int)Math.Min(buffer.Length, length - _position)], cancellationToken).ConfigureAwait(false);
            _position += read;
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
