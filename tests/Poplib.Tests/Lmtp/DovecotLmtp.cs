using System.Text;
using Poplib.Tests.Interop;

namespace Poplib.Tests.Lmtp;

/// <summary>
/// A private Dovecot started with <c>scripts/dovecot.sh start DIR --lmtp</c> (env keys <c>LMTP_PORT</c>
/// and <c>LMTP_SOCKET</c>), shared by the LMTP tests and stopped after them.
/// </summary>
public sealed class DovecotLmtpFixture : IDisposable
{
    private readonly Lazy<DovecotInstance> _server = new(() => DovecotInstance.Start(strict: false, lmtp: true));

    public DovecotInstance Server => _server.Value;

    public void Dispose()
    {
        if (_server.IsValueCreated)
            _server.Value.Dispose();
    }
}

[CollectionDefinition(nameof(DovecotLmtpCollection))]
public sealed class DovecotLmtpCollection : ICollectionFixture<DovecotLmtpFixture>;

/// <summary>
/// A test that needs Dovecot's LMTP server: skipped on a developer's machine without <c>dovecot-lmtpd</c>,
/// run (and failing) under <c>CI=true</c>, as <see cref="DovecotFactAttribute"/>.
/// </summary>
public sealed class DovecotLmtpTheoryAttribute : TheoryAttribute
{
    public DovecotLmtpTheoryAttribute()
    {
        if (!DovecotInstance.LmtpIsInstalled && !DovecotFactAttribute.IsCi)
            Skip = "Dovecot's LMTP server is not installed (run scripts/install-deps.sh as root).";
    }
}

/// <summary>What Dovecot's LMTP server saved in a user's Maildir, with the fields it adds taken off.</summary>
internal static class DeliveredMail
{
    /// <summary>Each message in <c>new/</c>: the envelope sender Dovecot recorded, and the bytes after its three fields.</summary>
    public static List<(string ReturnPath, byte[] Message)> Read(DovecotInstance dovecot, string user)
    {
        string newDir = Path.Combine(dovecot.HomeRoot, user, "Maildir", "new");
        return [.. Directory.GetFiles(newDir).Order(StringComparer.Ordinal).Select(f => Split(File.ReadAllBytes(f)))];
    }

    /// <summary>
    /// Dovecot LMTP puts <c>Return-Path:</c>, <c>Delivered-To:</c> (only when the message has one
    /// recipient in the transaction) and <c>Received:</c> (with continuation lines) in front of the
    /// message; everything after them is what the client sent, with LF line ends.
    /// </summary>
    private static (string ReturnPath, byte[] Message) Split(byte[] stored)
    {
        string[] added = ["Return-Path:", "Delivered-To:", "Received:"];
        int position = 0;
        string returnPath = "";
        foreach (string field in added)
        {
            if (field == "Delivered-To:" && !stored.AsSpan(position).StartsWith("Delivered-To:"u8))
                continue;
            Assert.True(stored.AsSpan(position).StartsWith(Encoding.ASCII.GetBytes(field)), $"Dovecot's {field} field is missing");
            do
            {
                int lf = stored.AsSpan(position).IndexOf((byte)'\n');
                if (field == "Return-Path:")
                    returnPath = Encoding.ASCII.GetString(stored, position + field.Length, lf - field.Length).Trim();
                position += lf + 1;
            }
            while (position < stored.Length && stored[position] is (byte)' ' or (byte)'\t');
        }

        return (returnPath, stored[position..]);
    }

    /// <summary>A message as Dovecot stores it: CRLF as LF, and a final line break if it had none.</summary>
    public static byte[] AsStored(byte[] message)
    {
        var stored = new List<byte>(message.Length + 1);
        for (int i = 0; i < message.Length; i++)
        {
            if (message[i] == '\r' && i + 1 < message.Length && message[i + 1] == '\n')
                continue;
            stored.Add(message[i]);
        }

        if (stored.Count > 0 && stored[^1] != '\n')
            stored.Add((byte)'\n');
        return [.. stored];
    }
}
