using System.Net.Sockets;
using System.Security.Authentication;

namespace Poplib.Fuzz;

/// <summary>Which exceptions a call may throw beyond those any call may (see <see cref="Session.Judge"/>).</summary>
[Flags]
internal enum Allowed
{
    None = 0,

    /// <summary><see cref="Pop3AuthenticationException"/>: a login.</summary>
    Authentication = 1,

    /// <summary><see cref="NotSupportedException"/>: APOP without a timestamp, STLS not offered, no OAuth mechanism.</summary>
    NotSupported = 2,
}

/// <summary>
/// One session of one fuzz input: the client, the harness's <see cref="Reference"/> reading of the
/// server's bytes, and the rules every call is held to. Each call runs down the sync or the async
/// path (input flag); whatever it throws is judged against the errors table of docs/library.md,
/// including what that table says about the connection afterwards.
/// </summary>
internal sealed partial class Session
{
    private readonly FuzzInput _input;
    private readonly Outputs _outputs;
    private readonly int _port;
    private readonly Reference _reference;
    private Pop3Client? _client;
    private bool _capabilitiesSupported;
    private bool _closedByCaller;
    private Exception? _closedBy;
    private bool _probed;
    private Exception? _lastError;

    public Session(FuzzInput input, Outputs outputs, int port)
    {
        _input = input;
        _outputs = outputs;
        _port = port;
        _reference = new Reference(input.Server);
    }

    private Pop3Client Client => _client!;

    private bool Authorized => _client is { State: Pop3SessionState.Authorization };

    private bool InTransaction => _client is { State: Pop3SessionState.Transaction };

    public void Run()
    {
        try
        {
            if (Connect())
                RunScenario();
            ProbeClosed();
        }
        finally
        {
            _client?.Dispose();
            _outputs.CheckNoSecret(_input.Server.Span, _client?.ApopTimestamp, _port);
        }
    }

    private Pop3ClientOptions Options() => new()
    {
        // The input ends with the server's FIN, so no read ever waits: these only bound a bug.
        Timeout = TimeSpan.FromSeconds(5),
        CommandTimeout = TimeSpan.FromSeconds(8),
        AllowInsecureAuthentication = _input.AllowInsecure,
        QueryCapabilities = _input.QueryCapabilities,
        DebugLevel = _input.DebugLevel,
        DebugWriter = _outputs.DebugWriter,
        Logger = _outputs,
        PipelineWindow = _input.NarrowWindow ? 2 : 1024,
        MaxLineLength = _input.TightLimits ? 512 : 8192,
        MaxListEntries = _input.TightLimits ? 8 : 10_000_000,
        MaxListingOctets = _input.TightLimits ? 300 : 128L * 1024 * 1024,
        MaxInMemoryMessageSize = _input.TightLimits ? 200 : 64L * 1024 * 1024,
        MaxTopExcessOctets = _input.TightLimits ? 16 : 64L * 1024 * 1024,
    };

    /// <summary>Connects, reading the greeting (and CAPA when asked); false when that failed.</summary>
    private bool Connect()
    {
        Pop3ClientOptions options = Options();
        if (!Try("connect", () => Pop3Client.Connect("127.0.0.1", _port, options), () => Pop3Client.ConnectAsync("127.0.0.1", _port, options), Allowed.None, out Pop3Client? client))
        {
            _reference.Lose();
            return false;
        }

        _client = client;
        byte[]? greeting = _reference.Reply();
        if (greeting is not null)
            Expect(Decode(greeting) == client!.Welcome, "The greeting is not the server's first line.");
        if (_input.QueryCapabilities)
        {
            _capabilitiesSupported = Reference.IsOk(_reference.Reply(multiLine: true));
            if (!_reference.Lost)
                Expect(client!.Capabilities.IsSupported == _capabilitiesSupported, "Capabilities.IsSupported does not say whether CAPA was answered +OK.");
        }

        return true;
    }

    /// <summary>
    /// Runs a call down the path the input chose. True with its value when it returned; false when it
    /// threw something the errors table allows (judged here); any other exception ends the run.
    /// </summary>
    private bool Try<T>(string what, Func<T> sync, Func<Task<T>> async, Allowed allowed, out T? value)
    {
        _lastError = null;
        try
        {
            value = _input.Async ? async().GetAwaiter().GetResult() : sync();
            return true;
        }
        catch (Exception e) when (e is not InvariantException)
        {
            Judge(what, e, allowed);
            value = default;
            return false;
        }
    }

    private bool Try(string what, Action sync, Func<Task> async, Allowed allowed = Allowed.None) =>
        Try(what, () => { sync(); return 0; }, async () => { await async(); return 0; }, allowed, out _);

    /// <summary>
    /// A call that reads one reply: true with its response on +OK. The reference reads the same reply
    /// (with the lines of a multi-line one after +OK) and the status lines must agree; a -ERR must come
    /// as <see cref="Pop3CommandException"/> with the connection open.
    /// </summary>
    private bool Reply(string what, Func<Pop3Response> sync, Func<Task<Pop3Response>> async, Allowed allowed, out Pop3Response? response, bool multiLine = false)
    {
        Reference before = _reference.Fork();
        bool ok = Try(what, sync, async, allowed, out response);
        if (ok)
            Agree(what, response!, multiLine);
        else if (what is "USER" or "NOOP" or "DELE" or "RSET" or "QUIT" or "LANG tag")
            Refused(what, before, r => r.Line() is { Length: <= 512 } line && (Reference.IsOk(line) || line.AsSpan().StartsWith("-ERR"u8)));
        return ok;
    }

    /// <summary>
    /// The reference reads the +OK reply the client just read; the status lines must agree (when the
    /// call returns the response).
    /// </summary>
    private void Agree(string what, Pop3Response? response, bool multiLine = false)
    {
        byte[]? line = _reference.Reply(multiLine);
        if (line is null)
            return;
        Expect(Reference.IsOk(line), $"{what} returned for the reply \"{Decode(line)}\".");
        if (response is not null)
            Expect(Decode(line) == response.Line, $"{what}: the client read \"{response.Line}\" where the server's reply was \"{Decode(line)}\".");
    }

    private string Decode(byte[] line) => Reference.Decode(line, _client?.IsUtf8 ?? false);

    /// <summary>Judges an exception against the errors table: its type, and whether the connection is open after it.</summary>
    private void Judge(string what, Exception e, Allowed allowed)
    {
        _outputs.Add(e);
        _lastError = e;
        bool open = _client?.IsConnected ?? false;
        switch (e)
        {
            case Pop3CommandException command:
                if (_client is not null && what != "QUIT")
                    Expect(open, $"{what}: -ERR closed the connection.", e);
                // A -ERR is one line, read where the reference is too.
                byte[]? line = _reference.Reply();
                if (line is not null)
                    Expect(Decode(line) == command.Response.Line && !Reference.IsOk(line), $"{what}: -ERR \"{command.Response.Line}\" is not the server's reply \"{Decode(line)}\".", e);
                return;
            case Pop3AuthenticationException authentication when allowed.HasFlag(Allowed.Authentication):
                Expect(open == (authentication.Reason != Pop3AuthenticationFailure.ServerNotAuthenticated), $"{what}: {authentication.Reason} left the connection {(open ? "open" : "closed")}.", e);
                break;
            case Pop3ProtocolException or TimeoutException or IOException or SocketException or AuthenticationException:
                Expect(!open, $"{what}: {e.GetType().Name} left the connection open.", e);
                break;
            case NotSupportedException when e.GetType() == typeof(NotSupportedException) && allowed.HasFlag(Allowed.NotSupported):
                Expect(open, $"{what}: NotSupportedException closed the connection.", e);
                return; // nothing was sent: the reference stays in step
            case InvalidOperationException when e.GetType() == typeof(InvalidOperationException) && _closedByCaller:
                break;
            default:
                throw new InvariantException($"{what} threw {e.GetType().FullName}, which the errors table does not allow here: {e.Message}", e);
        }

        _reference.Lose();
        if (!open)
            _closedBy ??= e;
    }

    /// <summary>
    /// Once a failure (not the caller) closed the connection, the next call throws that failure's kind:
    /// <see cref="TimeoutException"/> after a timeout, <see cref="Pop3ProtocolException"/> after anything
    /// else; after QUIT, <see cref="InvalidOperationException"/>.
    /// </summary>
    private void ProbeClosed()
    {
        if (_client is null || _client.IsConnected || _probed)
            return;
        _probed = true;
        Type expected = _closedByCaller ? typeof(InvalidOperationException)
            : _closedBy is TimeoutException ? typeof(TimeoutException)
            : typeof(Pop3ProtocolException);
        try
        {
            if (_input.Async)
                _client.NoopAsync().GetAwaiter().GetResult();
            else
                _client.Noop();
        }
        catch (Exception e) when (e is not InvariantException)
        {
            _outputs.Add(e);
            Expect(e.GetType() == expected, $"A call on a connection closed by {(_closedBy?.GetType().Name ?? "the caller")} threw {e.GetType().Name}, not {expected.Name}.", e);
            return;
        }

        throw new InvariantException("A call on a closed connection succeeded.");
    }

    private void Quit()
    {
        if (_client is not { IsConnected: true })
            return;
        Reply("QUIT", Client.Quit, () => Client.QuitAsync(), Allowed.None, out _);
        Expect(!Client.IsConnected, "QUIT left the connection open.");
        // Closed by QUIT itself (+OK or -ERR), unless a failure closed it first.
        _closedByCaller = _closedBy is null;
    }

    private static void Expect(bool condition, string message, Exception? inner = null)
    {
        if (!condition)
            throw new InvariantException(message, inner);
    }
}
