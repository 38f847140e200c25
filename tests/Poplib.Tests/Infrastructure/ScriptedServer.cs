using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Poplib.Tests.Infrastructure;

/// <summary>
/// A POP3 server that plays a fixed script over a real socket on 127.0.0.1: it sends what the script
/// says, checks each line the client sends against what the script expects, and records everything.
/// A mismatch fails the test through <see cref="Completion"/>. It can split what it sends into
/// single bytes (to exercise terminators split across reads) and can switch to TLS mid-script.
/// </summary>
internal sealed class ScriptedServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly List<Step> _steps;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<string> _received = [];
    private readonly TaskCompletionSource _played = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ScriptedServer(List<Step> steps, X509Certificate2? implicitTls, bool byteByByte)
    {
        _steps = steps;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        Completion = Task.Run(async () =>
        {
            try
            {
                await RunAsync(implicitTls, byteByByte);
                _played.TrySetResult();
            }
            catch (Exception e)
            {
                _played.TrySetException(e);
                throw;
            }
        });
    }

    public int Port { get; }

    /// <summary>Ends when the script has played; faults when the client did something else.</summary>
    public Task Completion { get; }

    /// <summary>Every line the client sent, in order, without CRLF.</summary>
    public IReadOnlyList<string> Received
    {
        get
        {
            lock (_received)
                return _received.ToArray();
        }
    }

    /// <summary>Whether the client closed the connection (rather than the script ending).</summary>
    public bool ClientHungUp { get; private set; }

    public static ScriptedServer Start(Action<Script> build, X509Certificate2? implicitTls = null, bool byteByByte = false)
    {
        var script = new Script();
        build(script);
        return new ScriptedServer(script.Steps, implicitTls, byteByByte);
    }

    /// <summary>Waits until every step of the script has played and rethrows any mismatch found.</summary>
    public async Task VerifyAsync(TimeSpan? timeout = null) =>
        await _played.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(10));

    private async Task RunAsync(X509Certificate2? implicitTls, bool byteByByte)
    {
        using TcpClient tcp = await _listener.AcceptTcpClientAsync(_stop.Token);
        tcp.NoDelay = true;
        Stream stream = tcp.GetStream();
        if (implicitTls is not null)
            stream = await ServerTlsAsync(stream, implicitTls);
        var reader = new LineReader(stream);

        foreach (Step step in _steps)
        {
            switch (step)
            {
                case SendStep send:
                    await WriteAsync(stream, send.Bytes, byteByByte || send.ByteByByte);
                    break;
                case ExpectStep expect:
                    string? line = await reader.ReadLineAsync(_stop.Token);
                    if (line is null)
                    {
                        ClientHungUp = true;
                        throw new ScriptMismatchException($"Expected \"{expect.Line}\" but the client closed the connection.");
                    }

                    lock (_received)
                        _received.Add(line);
                    if (expect.Line is not null && line != expect.Line)
                        throw new ScriptMismatchException($"Expected \"{expect.Line}\" but the client sent \"{line}\".");
                    break;
                case ExpectHangUpStep:
                    string? extra = await reader.ReadLineAsync(_stop.Token);
                    if (extra is not null)
                    {
                        lock (_received)
                            _received.Add(extra);
                        throw new ScriptMismatchException($"Expected the client to close the connection, but it sent \"{extra}\".");
                    }

                    ClientHungUp = true;
                    break;
                case StartTlsStep tls:
                    if (reader.Buffered > 0)
                        throw new ScriptMismatchException("The client sent bytes before the TLS handshake.");
                    stream = await ServerTlsAsync(stream, tls.Certificate);
                    reader = new LineReader(stream);
                    break;
                case ExpectQuietStep quiet:
                    if (reader.Buffered > 0 || await reader.DataArrivesWithinAsync(quiet.Wait, _stop.Token))
                        throw new ScriptMismatchException("The client sent more before the server's reply (it pipelined where it should not).");
                    break;
                case DelayStep delay:
                    await Task.Delay(delay.Duration, _stop.Token);
                    break;
                case ActionStep action:
                    await action.Run(stream, _stop.Token);
                    break;
                case CloseStep:
                    tcp.Client.Shutdown(SocketShutdown.Both);
                    return;
            }
        }

        _played.TrySetResult();

        // Script done: keep the socket open until the client goes away or the test ends, so that an
        // unexpected extra command shows up as a mismatch rather than as a reset.
        string? after = await reader.ReadLineAsync(_stop.Token);
        if (after is not null)
        {
            lock (_received)
                _received.Add(after);
            throw new ScriptMismatchException($"The script had ended, but the client sent \"{after}\".");
        }

        ClientHungUp = true;
    }

    private static async Task<Stream> ServerTlsAsync(Stream inner, X509Certificate2 certificate)
    {
        var ssl = new SslStream(inner, leaveInnerStreamOpen: true);
        await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate });
        return ssl;
    }

    private static async Task WriteAsync(Stream stream, byte[] bytes, bool byteByByte)
    {
        if (!byteByByte)
        {
            await stream.WriteAsync(bytes);
            await stream.FlushAsync();
            return;
        }

        for (int i = 0; i < bytes.Length; i++)
        {
            await stream.WriteAsync(bytes.AsMemory(i, 1));
            await stream.FlushAsync();
            if (i % 8 == 0)
                await Task.Delay(1);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        try
        {
            await Completion.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch
        {
            // Failures are reported by VerifyAsync; disposal only tidies up.
        }

        _stop.Dispose();
    }

    internal abstract record Step;

    private sealed record SendStep(byte[] Bytes, bool ByteByByte) : Step;

    private sealed record ExpectStep(string? Line) : Step;

    private sealed record ExpectHangUpStep : Step;

    private sealed record StartTlsStep(X509Certificate2 Certificate) : Step;

    private sealed record DelayStep(TimeSpan Duration) : Step;

    private sealed record ExpectQuietStep(TimeSpan Wait) : Step;

    private sealed record ActionStep(Func<Stream, CancellationToken, Task> Run) : Step;

    private sealed record CloseStep : Step;

    /// <summary>The script: a list of steps, built fluently.</summary>
    internal sealed class Script
    {
        internal List<Step> Steps { get; } = [];

        /// <summary>Sends lines, each followed by CRLF.</summary>
        public Script Send(params string[] lines)
        {
            foreach (string line in lines)
                Steps.Add(new SendStep(Encoding.UTF8.GetBytes(line + "\r\n"), false));
            return this;
        }

        /// <summary>Sends bytes exactly as given.</summary>
        public Script SendRaw(byte[] bytes, bool byteByByte = false)
        {
            Steps.Add(new SendStep(bytes, byteByByte));
            return this;
        }

        public Script SendRaw(string text, bool byteByByte = false) => SendRaw(Encoding.UTF8.GetBytes(text), byteByByte);

        /// <summary>Expects the client to send exactly this line (null: any line).</summary>
        public Script Expect(string? line)
        {
            Steps.Add(new ExpectStep(line));
            return this;
        }

        /// <summary>Expects a command and answers it with the given lines.</summary>
        public Script On(string command, params string[] reply) => Expect(command).Send(reply);

        /// <summary>The usual greeting.</summary>
        public Script Greet(string greeting = "+OK POP3 test server ready") => Send(greeting);

        /// <summary>Answers the client's CAPA with these capability lines.</summary>
        public Script Capa(params string[] capabilities) =>
            On("CAPA", ["+OK Capability list follows", .. capabilities, "."]);

        /// <summary>Greets, answers CAPA, and accepts USER/PASS.</summary>
        public Script LoggedIn(string[]? capabilities = null, string user = "alice", string password = "secret") =>
            Greet().Capa(capabilities ?? ["USER", "TOP", "UIDL"])
                .On($"USER {user}", "+OK")
                .On($"PASS {password}", "+OK logged in")
                .Capa(capabilities ?? ["USER", "TOP", "UIDL"]);

        public Script ExpectHangUp()
        {
            Steps.Add(new ExpectHangUpStep());
            return this;
        }

        public Script StartTls(X509Certificate2 certificate)
        {
            Steps.Add(new StartTlsStep(certificate));
            return this;
        }

        /// <summary>Expects the client to send nothing more for a while (it waits for a reply).</summary>
        public Script ExpectQuiet(TimeSpan? wait = null)
        {
            Steps.Add(new ExpectQuietStep(wait ?? TimeSpan.FromMilliseconds(150)));
            return this;
        }

        public Script Delay(TimeSpan duration)
        {
            Steps.Add(new DelayStep(duration));
            return this;
        }

        public Script Do(Func<Stream, CancellationToken, Task> action)
        {
            Steps.Add(new ActionStep(action));
            return this;
        }

        public Script Close()
        {
            Steps.Add(new CloseStep());
            return this;
        }
    }

    /// <summary>Reads CRLF lines from the client without reading past them (so TLS can start right after).</summary>
    private sealed class LineReader(Stream stream)
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private int _start;
        private int _end;

        public int Buffered => _end - _start;

        /// <summary>Waits up to <paramref name="wait"/> for more bytes; keeps what arrives for the next line.</summary>
        public async Task<bool> DataArrivesWithinAsync(TimeSpan wait, CancellationToken cancellationToken)
        {
            using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timer.CancelAfter(wait);
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }

            try
            {
                int read = await stream.ReadAsync(_buffer.AsMemory(_end), timer.Token);
                _end += read;
                return read > 0;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return false;
            }
        }

        public async Task<string?> ReadLineAsync(CancellationToken cancellationToken)
        {
            while (true)
            {
                int lf = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
                if (lf >= 0)
                {
                    int end = lf > _start && _buffer[lf - 1] == '\r' ? lf - 1 : lf;
                    string line = Encoding.UTF8.GetString(_buffer, _start, end - _start);
                    _start = lf + 1;
                    return line;
                }

                if (_start > 0)
                {
                    Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                    _end -= _start;
                    _start = 0;
                }

                int read;
                try
                {
                    read = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
                }
                catch (IOException)
                {
                    return null;
                }

                if (read == 0)
                    return null;
                _end += read;
            }
        }
    }
}

internal sealed class ScriptMismatchException(string message) : Exception(message);
