namespace Poplib.CrashTest.Fleet;

/// <summary>One account of the fleet: its mail as served, where the server keeps it, where it is delivered.</summary>
internal sealed class FleetAccount(string name, string user, int port, FetchPolicy policy)
{
    public string Name { get; } = name;

    public string User { get; } = user;

    public int Port { get; } = port;

    public FetchPolicy Policy { get; } = policy;

    /// <summary>Every message ever put on its server.</summary>
    public List<SourceMessage> Sources { get; } = [];

    /// <summary>An in-process server's mailbox, or null for a Dovecot account.</summary>
    public RecordingMailbox? Mailbox { get; init; }

    /// <summary>A Dovecot account's Maildir (the server's copy), or null.</summary>
    public string? DovecotMaildir { get; init; }

    /// <summary>On the slow server: the accounts frozen mid-run.</summary>
    public bool Slow { get; init; }

    /// <summary>Its mailbox key in the leases and the messages table, as the accounts table says after the sync.</summary>
    public string Key { get; set; } = "";

    /// <summary>What its server holds now, in the local form (LF line ends).</summary>
    public IReadOnlyList<byte[]> ServerHolds()
    {
        if (Mailbox is { } mailbox)
            return mailbox.Inner.Messages;
        var held = new List<byte[]>();
        foreach (string folder in new[] { "new", "cur" })
        {
            foreach (string file in Directory.EnumerateFiles(Path.Combine(DovecotMaildir!, folder)))
            {
                try
                {
                    held.Add(FromCrlf(File.ReadAllBytes(file)));
                }
                catch (FileNotFoundException)
                {
                    // Deleted by a session's QUIT meanwhile.
                }
            }
        }

        return held;
    }

    /// <summary>Puts <paramref name="message"/> on the server (a Dovecot account's Maildir gets it with CRLF line ends, as a delivery agent writes it).</summary>
    public void Add(SourceMessage message)
    {
        Sources.Add(message);
        if (Mailbox is { } mailbox)
        {
            mailbox.Inner.Add(message.Content);
            return;
        }

        string name = $"{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}.fleet{message.Index}.poplib";
        string tmp = Path.Combine(DovecotMaildir!, "tmp", name);
        File.WriteAllBytes(tmp, ToCrlf(message.Content));
        File.Move(tmp, Path.Combine(DovecotMaildir!, "new", name));
    }

    public static byte[] ToCrlf(byte[] lf) => System.Text.Encoding.UTF8.GetBytes(System.Text.Encoding.UTF8.GetString(lf).Replace("\n", "\r\n", StringComparison.Ordinal));

    private static byte[] FromCrlf(byte[] crlf) => System.Text.Encoding.UTF8.GetBytes(System.Text.Encoding.UTF8.GetString(crlf).Replace("\r\n", "\n", StringComparison.Ordinal));
}
