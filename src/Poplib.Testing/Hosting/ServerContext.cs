using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;

namespace Poplib.Testing.Hosting;

/// <summary>What the sessions of one server share.</summary>
internal sealed class ServerContext(Pop3TestServerOptions options, X509Certificate2 certificate, CancellationToken shutdown)
{
    private readonly ConcurrentDictionary<string, Pop3TestUser> _users = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<Exception> _errors = new();
    private volatile Pop3Fault[] _faults = options.Faults;

    public Pop3TestServerOptions Options => options;

    public X509Certificate2 Certificate => certificate;

    public CancellationToken Shutdown => shutdown;

    public MailboxLocks Locks { get; } = new();

    /// <summary>What faults remember from one session to the next.</summary>
    public Faults.FaultMemory FaultMemory { get; } = new();

    public Pop3Fault[] Faults
    {
        get => _faults;
        set => _faults = value;
    }

    public IReadOnlyList<Exception> Errors => [.. _errors];

    public Pop3TestUser AddUser(Pop3TestUser user) => _users[user.Name] = user;

    public Pop3TestUser? FindUser(string name) => _users.GetValueOrDefault(name);

    // Keeps a bounded record of what went wrong inside sessions, for tests to inspect.
    public void ReportError(Exception error)
    {
        if (_errors.Count < 100)
            _errors.Enqueue(error);
    }
}
