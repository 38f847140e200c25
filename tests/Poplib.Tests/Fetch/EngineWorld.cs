using System.Text;
using Poplib.Fetch;
using Poplib.Fetch.State;
using Poplib.Testing;

namespace Poplib.Tests.Fetch;

/// <summary>
/// The engine driven through its public API: an in-process server with one user, a private state
/// folder, and accounts that deliver into an <see cref="IMessageSink"/> (or anything else).
/// </summary>
internal sealed class EngineWorld : IAsyncDisposable
{
    public const string User = "alice";
    public const string Password = "engine-secret";

    private EngineWorld(Pop3TestServer server, IPop3Mailbox mailbox, string folder)
    {
        Server = server;
        Mailbox = mailbox;
        Folder = folder;
    }

    public Pop3TestServer Server { get; }

    public IPop3Mailbox Mailbox { get; }

    public Pop3MemoryMailbox Memory => (Pop3MemoryMailbox)Mailbox;

    public string Folder { get; }

    public string StatePath => Path.Combine(Folder, "state", "fetch.sqlite");

    public AccountKey Key => new(User, "127.0.0.1", Server.Port);

    public static Task<EngineWorld> StartAsync(int messages, params Pop3Fault[] faults) =>
        StartAsync(Pop3Mailbox.FromMessages(Enumerable.Range(1, messages).Select(n => Message(n))), faults);

    public static async Task<EngineWorld> StartAsync(IPop3Mailbox mailbox, params Pop3Fault[] faults)
    {
        Pop3TestServer server = await Pop3TestServer.StartAsync(new Pop3TestServerOptions { Tls = Pop3TlsMode.None, Faults = faults });
        server.AddUser(User, Password, mailbox);
        string folder = Path.Combine(Path.GetTempPath(), "poplib-engine-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(folder);
        return new EngineWorld(server, mailbox, folder);
    }

    /// <summary>An account of this world's server delivering to <paramref name="destination"/>.</summary>
    public FetchAccount Account(FetchDestination destination, FetchPolicy? policy = null, string password = Password) =>
        new("127.0.0.1", User, _ => ValueTask.FromResult(password), destination, "engine test")
        {
            Port = Server.Port,
            Tls = FetchTls.None,
            ClientOptions = new Pop3ClientOptions { AllowInsecureAuthentication = true, Timeout = TimeSpan.FromSeconds(10) },
            Policy = policy ?? new FetchPolicy(),
        };

    /// <summary>One run of <paramref name="account"/> with its own state connection, as a host would run it.</summary>
    public async Task<FetchResult> RunAsync(FetchAccount account, CancellationToken cancellationToken = default)
    {
        using SqliteFetchStateStore state = SqliteFetchStateStore.Open(StatePath);
        return await new Fetcher(account, state).RunAsync(cancellationToken);
    }

    public Dictionary<MessageKey, StoredMessage> State()
    {
        using SqliteFetchStateStore state = SqliteFetchStateStore.Open(StatePath);
        return state.Load(Key);
    }

    /// <summary>The server's UIDLs, in message order, as a client sees them.</summary>
    public async Task<List<string>> UidlsAsync()
    {
        await using Pop3Client client = await Pop3Client.ConnectAsync("127.0.0.1", Server.Port, new Pop3ClientOptions { AllowInsecureAuthentication = true });
        await client.LoginAsync(User, Password);
        List<string> uidls = [.. (await client.UidlAsync()).Select(u => u.Uid)];
        await client.QuitAsync();
        return uidls;
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public static string MessageId(int n) => $"<engine-{n}@example.org>";

    /// <summary>A message with LF line ends (the server sends CRLF) and a known Message-ID.</summary>
    public static byte[] Message(int n) => Encoding.UTF8.GetBytes(
        $"From: Sender {n} <s{n}@example.org>\nTo: alice@example.org\nSubject: message {n}\nMessage-ID: {MessageId(n)}\n\nBody of message {n}.\n.leading dot\n");

    /// <summary>What the sink must receive: the message in its local form (LF line ends, dots unstuffed) — what the server stores.</summary>
    public static byte[] Wire(int n) => Message(n);
}

/// <summary>A sink that records what it accepted, and misbehaves on request.</summary>
internal sealed class RecordingSink : IMessageSink
{
    private readonly Lock _gate = new();
    private readonly List<(FetchedMessage Message, byte[] Content)> _accepted = [];

    /// <summary>Called before accepting; throw to refuse, or hang.</summary>
    public Func<FetchedMessage, CancellationToken, Task>? Before { get; set; }

    public int Calls { get; private set; }

    public IReadOnlyList<(FetchedMessage Message, byte[] Content)> Accepted
    {
        get
        {
            lock (_gate)
                return [.. _accepted];
        }
    }

    public async ValueTask AcceptAsync(FetchedMessage message, Stream content, CancellationToken cancellationToken)
    {
        Calls++;
        using var copy = new MemoryStream();
        await content.CopyToAsync(copy, cancellationToken);
        if (Before is { } before)
            await before(message, cancellationToken);
        lock (_gate)
            _accepted.Add((message, copy.ToArray()));
    }
}
