using System.Text;
using Poplib.Testing;

namespace Poplib.Tests.Cli.Fetch;

/// <summary>
/// A POP3 server with one user, a scratch folder for destinations and state, and a way to run
/// <c>poplib fetch</c> against them in-process, as a user would from the shell.
/// </summary>
internal sealed class FetchWorld : IAsyncDisposable
{
    public const string User = "alice";
    public const string Password = "fetch-secret";
    public const string PasswordVariable = "POPLIB_FETCH_TEST_PW";

    private FetchWorld(Pop3TestServer server, string folder, IPop3Mailbox mailbox)
    {
        Server = server;
        Folder = folder;
        Mailbox = mailbox;
    }

    public Pop3TestServer Server { get; }

    public IPop3Mailbox Mailbox { get; }

    public Pop3MemoryMailbox Memory => (Pop3MemoryMailbox)Mailbox;

    public string Folder { get; }

    public string Maildir => Path.Combine(Folder, "Maildir");

    public string Mbox => Path.Combine(Folder, "mail.mbox");

    public string State => Path.Combine(Folder, "state", "fetch.sqlite");

    public static Task<FetchWorld> StartAsync(IEnumerable<byte[]> messages, params Pop3Fault[] faults) =>
        StartAsync(Pop3Mailbox.FromMessages(messages), faults);

    public static async Task<FetchWorld> StartAsync(IPop3Mailbox mailbox, params Pop3Fault[] faults)
    {
        Environment.SetEnvironmentVariable(PasswordVariable, Password);
        Pop3TestServer server = await Pop3TestServer.StartAsync(new Pop3TestServerOptions { Tls = Pop3TlsMode.None, Faults = faults });
        server.AddUser(User, Password, mailbox);
        string folder = Path.Combine(Path.GetTempPath(), "poplib-fetch-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(folder);
        return new FetchWorld(server, folder, mailbox);
    }

    /// <summary>Runs <c>poplib fetch</c> with this world's server, user and state, plus <paramref name="args"/>.</summary>
    public Task<CliRunner.Outcome> FetchAsync(params string[] args) => FetchAsync(CancellationToken.None, args);

    public Task<CliRunner.Outcome> FetchAsync(CancellationToken cancellationToken, params string[] args) =>
        CliRunner.RunAsync(cancellationToken, [.. ConnectionArgs(), "--state", State, .. args]);

    public string[] ConnectionArgs() =>
        ["fetch", "--host", "127.0.0.1", "--port", Server.Port.ToString(), "--user", User, "--password-env", PasswordVariable, "--allow-insecure-auth", "--auth", "user"];

    /// <summary>Every delivered file's bytes in new/ and cur/.</summary>
    public List<byte[]> MaildirMessages() =>
        [.. new[] { "new", "cur" }.Where(s => Directory.Exists(Path.Combine(Maildir, s)))
            .SelectMany(s => Directory.GetFiles(Path.Combine(Maildir, s))).Order(StringComparer.Ordinal).Select(File.ReadAllBytes)];

    public List<byte[]> MboxMessages() => File.Exists(Mbox) ? MboxReader.Read(File.ReadAllBytes(Mbox)) : [];

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

    /// <summary>A message with LF line endings (what Maildir and mbox hold) and a unique Message-ID.</summary>
    public static byte[] Message(int n, string? body = null) => Encoding.UTF8.GetBytes(
        $"From: Sender {n} <s{n}@example.org>\nTo: alice@example.org\nSubject: message {n}\nMessage-ID: <fetch-{n}-{Guid.NewGuid():N}@example.org>\n\n" +
        (body ?? $"Body of message {n}.\n"));

    /// <summary>The lines mbox and POP3 both have to get right.</summary>
    public static byte[] Tricky(int n) => Message(n,
        "From the start of a line\n>From already quoted\n>>From twice\n.a dot\n..two dots\n.\nFrom\nFro\n\nGrüße — ünïcödé\n" + new string('x', 5000) + "\nlast line\n");

    public static IEnumerable<string> Describe(IEnumerable<byte[]> messages) => messages.Select(m => Encoding.UTF8.GetString(m)).Order(StringComparer.Ordinal);
}

/// <summary>An mboxrd reader written from the format's definition, independent of the code under test.</summary>
internal static class MboxReader
{
    public static List<byte[]> Read(byte[] mbox)
    {
        var messages = new List<byte[]>();
        string text = Encoding.UTF8.GetString(mbox);
        List<string>? current = null;
        foreach (string line in text.Split('\n')[..^1])
        {
            if (line.StartsWith("From ", StringComparison.Ordinal))
            {
                if (current is not null)
                    messages.Add(Finish(current));
                current = [];
                continue;
            }

            if (current is null)
                throw new InvalidDataException("mbox does not start with a From line");
            string unquoted = line.Length > 1 && line[0] == '>' && line.TrimStart('>').StartsWith("From ", StringComparison.Ordinal) ? line[1..] : line;
            current.Add(unquoted);
        }

        if (current is not null)
            messages.Add(Finish(current));
        return messages;
    }

    private static byte[] Finish(List<string> lines)
    {
        // Each message is followed by one empty line, the separator.
        if (lines.Count == 0 || lines[^1].Length != 0)
            throw new InvalidDataException("an mbox message is not followed by an empty line");
        return Encoding.UTF8.GetBytes(string.Concat(lines.Take(lines.Count - 1).Select(l => l + "\n")));
    }
}
