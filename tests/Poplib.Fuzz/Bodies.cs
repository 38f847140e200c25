namespace Poplib.Fuzz;

/// <summary>
/// The scenarios that read message bodies: RETR and TOP into memory, into a stream and through the
/// message stream in small reads, and pipelined batches left early. Every body returned must equal the
/// reference's unstuffing of what the server sent, must exist only if its terminating line was sent,
/// and for TOP must be exactly the header and the lines asked for.
/// </summary>
internal sealed partial class Session
{
    /// <summary>What a body command gave: the bytes, TOP's excess flag, and whether it was read to its end.</summary>
    private readonly record struct BodyRead(byte[] Content, bool? ExcessDiscarded, bool Whole = true);

    private void RetrInMemory()
    {
        if (LogIn())
        {
            for (int i = 0; i <= (_input.Variant & 1) && InTransaction; i++)
            {
                int n = MessageNumber + i;
                Body("RETR", null, () => Try("RETR", () => Client.Retr(n), () => Client.RetrAsync(n), Allowed.None, out Pop3Message? message)
                    ? new BodyRead(Lines(message!), message!.ExcessDiscarded)
                    : null);
            }

            InStep();
        }

        Quit();
    }

    /// <summary>The message's lines must be its content split at LF, each without its CRLF or LF.</summary>
    private static byte[] Lines(Pop3Message message)
    {
        byte[] content = message.ToArray();
        var expected = new List<byte[]>();
        for (int start = 0; start < content.Length;)
        {
            int lf = Array.IndexOf(content, (byte)'\n', start);
            int end = lf < 0 ? content.Length : lf;
            expected.Add(content[start..(lf > start && content[lf - 1] == (byte)'\r' ? lf - 1 : end)]);
            start = lf < 0 ? content.Length : lf + 1;
        }

        IReadOnlyList<ReadOnlyMemory<byte>> lines = message.Lines;
        Expect(lines.Count == expected.Count && message.Octets == content.Length, $"Lines.Count is {lines.Count} for {expected.Count} lines.");
        int i = 0;
        foreach (ReadOnlyMemory<byte> line in lines)
            Expect(line.Span.SequenceEqual(expected[i++]), $"Line {i - 1} is not the content's.");
        for (int j = expected.Count - 1; j >= 0; j -= 3)
            Expect(lines[j].Span.SequenceEqual(expected[j]), $"Lines[{j}] is not the content's line.");
        return content;
    }

    private void RetrStreamed()
    {
        if (LogIn())
        {
            int n = MessageNumber;
            Body("RETR", null, () => Stream("RETR", n, null));
            InStep();
        }

        Quit();
    }

    private void Top()
    {
        if (LogIn())
        {
            int n = MessageNumber;
            int lines = _input.Second % 6;
            Body("TOP", lines, _input.Variant switch
            {
                0 => () => Try("TOP", () => Client.Top(n, lines), () => Client.TopAsync(n, lines), Allowed.None, out Pop3Message? message)
                    ? new BodyRead(Lines(message!), message!.ExcessDiscarded)
                    : null,
                _ => () => Stream("TOP", n, lines),
            });
            InStep();
        }

        Quit();
    }

    /// <summary>
    /// RETR or TOP through a stream: variant 0 (RETR) or 1 (TOP) copies into a MemoryStream, 2 reads
    /// the message stream to its end in small reads, 3 reads a few small reads and disposes it early.
    /// </summary>
    private BodyRead? Stream(string what, int n, int? lines)
    {
        if (_input.Variant <= 1)
        {
            var copy = new MemoryStream();
            if (!Try(what, () => lines is int l ? Client.TopTo(n, l, copy) : Client.RetrTo(n, copy),
                    () => lines is int l ? Client.TopToAsync(n, l, copy) : Client.RetrToAsync(n, copy), Allowed.None, out long copied))
                return null;
            Expect(copied == copy.Length, $"{what}To returned {copied} for {copy.Length} octets written.");
            return new BodyRead(copy.ToArray(), null);
        }

        int? stopAfter = _input.Variant == 3 ? ReadSize * 3 : null;
        return Try(what,
            () =>
            {
                Pop3MessageStream stream = lines is int l ? Client.OpenTop(n, l) : Client.OpenRetr(n);
                BodyRead read = ReadAndDispose(stream, () => ReadStream(stream, stopAfter, async: false));
                stream.Dispose();
                return read;
            },
            async () =>
            {
                Pop3MessageStream stream = lines is int l ? await Client.OpenTopAsync(n, l) : await Client.OpenRetrAsync(n);
                BodyRead read = ReadAndDispose(stream, () => ReadStream(stream, stopAfter, async: true));
                await stream.DisposeAsync();
                return read;
            },
            Allowed.None, out BodyRead read) ? read : null;
    }

    /// <summary>
    /// Reads; when the client throws, disposes the stream (which frees the client) and rethrows. A
    /// broken invariant is rethrown alone: disposing would drain, and a failure there would hide it.
    /// </summary>
    private static BodyRead ReadAndDispose(Pop3MessageStream stream, Func<BodyRead> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is not InvariantException)
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Reads a message stream in reads of <see cref="ReadSize"/> octets, through every Read overload in turn.</summary>
    private BodyRead ReadStream(Stream stream, int? stopAfter, bool async)
    {
        var content = new MemoryStream();
        byte[] buffer = new byte[ReadSize];
        for (int i = 0; stopAfter is not int max || content.Length < max; i++)
        {
            int read = (async, i % 2) switch
            {
                (false, 0) => stream.Read(buffer, 0, buffer.Length),
                (false, _) => stream.Read(buffer.AsSpan()),
                (true, 0) => stream.ReadAsync(buffer.AsMemory()).AsTask().GetAwaiter().GetResult(),
                _ => stream.ReadAsync(buffer, 0, buffer.Length).GetAwaiter().GetResult(),
            };
            Expect(read >= 0 && read <= buffer.Length, $"Read returned {read} for a buffer of {buffer.Length}.");
            if (read == 0)
            {
                Expect(stream.Position == content.Length, $"The stream's Position is {stream.Position} after {content.Length} octets.");
                return new BodyRead(content.ToArray(), stream is Pop3MessageStream message ? message.ExcessDiscarded : null);
            }

            content.Write(buffer, 0, read);
        }

        return new BodyRead(content.ToArray(), null, Whole: false);
    }

    /// <summary>
    /// Runs one RETR or TOP (<paramref name="topLines"/>) and holds what it returned to the reference:
    /// the body as unstuffed from the server's bytes, only if its terminator was sent; for TOP the
    /// header and the lines asked for, with ExcessDiscarded saying whether the server sent more. A
    /// refusal (other than a limit) of a body the reference reads as complete is a finding too.
    /// </summary>
    private void Body(string what, int? topLines, Func<BodyRead?> run)
    {
        Reference before = _reference.Fork();
        _lastError = null;
        BodyRead? result = run();
        if (result is { } read && !before.Lost)
        {
            Agree(what, null);
            (byte[] body, bool complete) = _reference.Body();
            Expect(complete, $"{what} returned a message whose terminating line the server never sent.");
            CheckBody(what, read, body, topLines);
        }
        else if (result is null && _lastError is Pop3ProtocolException and not Pop3LimitExceededException && _closedBy == _lastError && !before.Lost)
        {
            byte[]? status = before.Reply();
            Expect(status is null || !Reference.IsOk(status) || !before.Body().Complete,
                $"{what} was refused ({_lastError.Message}) although the server sent a complete, well-formed reply.", _lastError);
        }
        else
        {
            _reference.Lose();
        }
    }

    private static void CheckBody(string what, BodyRead read, byte[] body, int? topLines)
    {
        byte[] expected = topLines is int lines ? Reference.TopOf(body, lines) : body;
        if (read.Whole)
        {
            Expect(read.Content.AsSpan().SequenceEqual(expected), $"{what} returned {read.Content.Length} octets that are not the {expected.Length} of the server's dot-unstuffed body{(topLines is null ? "" : " (header and lines asked for)")}.");
            if (topLines is not null && read.ExcessDiscarded is not null)
                Expect(read.ExcessDiscarded == (expected.Length < body.Length), $"{what}'s ExcessDiscarded is {read.ExcessDiscarded} for a body of {body.Length} octets of which {expected.Length} were asked for.");
        }
        else
        {
            Expect(expected.AsSpan().StartsWith(read.Content), $"{what} returned octets that do not begin the server's dot-unstuffed body.");
        }
    }

    /// <summary>After a body, the next reply is read where the server sent it: NOOP's status line must agree.</summary>
    private void InStep()
    {
        if (InTransaction)
            Reply("NOOP", Client.Noop, () => Client.NoopAsync(), Allowed.None, out _);
    }

    /// <summary>
    /// RetrMany (variant 0), TopMany (1), RetrMany over LIST's entries (2), DeleMany (3): each message's
    /// reply must be the server's, in order; bodies are read (every other one) or left to be skipped;
    /// the batch may be left after a few messages, and the next command must find the session in step
    /// or closed with <see cref="Pop3ProtocolException"/>.
    /// </summary>
    private void Batch()
    {
        if (!LogIn())
        {
            Quit();
            return;
        }

        int[] numbers = Enumerable.Range(1, (_input.First % 5) + 1).ToArray();
        int stopAfter = _input.Second % 6;
        int? lines = _input.Variant == 1 ? _input.Second % 3 : null;
        IReadOnlyList<Pop3ListEntry>? listed = null;
        if (_input.Variant == 2)
        {
            if (!Try("LIST", Client.List, () => Client.ListAsync(), Allowed.None, out listed))
            {
                Quit();
                return;
            }

            Listed("LIST", listed!.Count);
            numbers = listed.Select(e => e.Number).ToArray();
        }

        if (_input.Variant == 3)
        {
            if (Try("DELE many", () => Client.DeleMany(numbers), () => Client.DeleManyAsync(numbers), Allowed.None, out IReadOnlyList<Pop3BatchItem>? items))
            {
                Expect(items!.Select(i => i.Number).SequenceEqual(numbers), "DeleMany's outcomes are not one per message, in order.");
                foreach (Pop3BatchItem item in items!)
                    BatchReply(item);
            }

            InStep();
            Quit();
            return;
        }

        bool early = false;
        int index = 0;
        bool lastComplete = true;
        bool OnMessage(Pop3BatchMessage message, bool async)
        {
            // The batch moved on: the message before was read or skipped to its terminating line.
            Expect(lastComplete || _reference.Lost, "A batch moved past a message whose terminating line the server never sent.");
            if (index == stopAfter && stopAfter < numbers.Length)
            {
                early = true;
                return false;
            }

            Expect(message.Number == numbers[index], $"Batch message {index} is number {message.Number}, not {numbers[index]}.");
            BatchReply(message);
            if (message.IsOk)
            {
                bool read = index % 2 == 0;
                BodyRead? content = read ? ReadStream(message.Content, null, async) : null;
                (byte[] body, bool complete) = _reference.Body();
                lastComplete = complete;
                if (content is { } got)
                {
                    Expect(complete, "A batch returned a message whose terminating line the server never sent.");
                    CheckBody("batch", got with { ExcessDiscarded = message.ExcessDiscarded }, body, lines);
                }
            }
            else
            {
                try
                {
                    _ = message.Content;
                    throw new InvariantException("A batch message answered -ERR has Content.");
                }
                catch (Pop3CommandException)
                {
                }
            }

            index++;
            return true;
        }

        // Enumerated by hand: leaving a batch (its Dispose, which drains what is owed) never throws.
        Try("batch",
            () =>
            {
                IEnumerable<Pop3BatchMessage> batch = lines is int l ? Client.TopMany(numbers, l) : listed is not null ? Client.RetrMany(listed) : Client.RetrMany(numbers);
                IEnumerator<Pop3BatchMessage> messages = batch.GetEnumerator();
                try
                {
                    while (messages.MoveNext() && OnMessage(messages.Current, async: false))
                    {
                    }
                }
                finally
                {
                    Leave(messages.Dispose);
                }
            },
            async () =>
            {
                IAsyncEnumerable<Pop3BatchMessage> batch = lines is int l ? Client.TopManyAsync(numbers, l) : listed is not null ? Client.RetrManyAsync(listed) : Client.RetrManyAsync(numbers);
                IAsyncEnumerator<Pop3BatchMessage> messages = batch.GetAsyncEnumerator();
                try
                {
                    while (await messages.MoveNextAsync() && OnMessage(messages.Current, async: true))
                    {
                    }
                }
                finally
                {
                    Leave(() => messages.DisposeAsync().AsTask().GetAwaiter().GetResult());
                }
            });
        if (early)
            _reference.Lose(); // the replies owed were drained: how many, the reference cannot tell
        Expect(early || _closedBy is not null || lastComplete || _reference.Lost, "A batch ended normally after a message whose terminating line the server never sent.");
        Expect(early || _closedBy is not null || index == numbers.Length, $"The batch ended after {index} of {numbers.Length} messages.");
        InStep();
        Quit();
    }

    private static void Leave(Action dispose)
    {
        try
        {
            dispose();
        }
        catch (Exception e)
        {
            throw new InvariantException($"Leaving a batch threw {e.GetType().Name}: {e.Message}", e);
        }
    }

    /// <summary>One reply of a batch: the server's status line, in order; an outcome's Error exactly for -ERR.</summary>
    private void BatchReply(Pop3BatchItem item)
    {
        byte[]? status = _reference.Reply();
        if (status is not null)
            Expect(Decode(status) == item.Response.Line, $"Batch reply \"{item.Response.Line}\" is not the server's \"{Decode(status)}\".");
        Expect(item.IsOk == (item.Error is null), "A batch outcome's Error does not match its reply.");
    }
}
