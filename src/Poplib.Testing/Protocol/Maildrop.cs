using System.Globalization;

namespace Poplib.Testing.Protocol;

/// <summary>A message as a session reports it: what LIST and UIDL say may differ from the stored message under a fault.</summary>
internal sealed record MaildropEntry(Pop3MailboxMessage Message, string Uid, long ReportedSize)
{
    /// <summary>RETR and TOP add an X-UIDL header line (the <see cref="XUidlHeader"/> fault); <see cref="ReportedSize"/> counts it.</summary>
    public bool CarriesXUidl { get; init; }
}

/// <summary>
/// One session's numbered view of a mailbox (RFC 1939): numbers fixed at login, DELE marks, RSET
/// clears them, and only QUIT hands the marked messages to the mailbox.
/// </summary>
internal sealed class Maildrop(MaildropEntry[] entries)
{
    private readonly bool[] _deleted = new bool[entries.Length];

    public IEnumerable<(int Number, MaildropEntry Entry)> Live =>
        entries.Select((entry, i) => (i + 1, entry)).Where(m => !_deleted[m.Item1 - 1]);

    public int LiveCount => Live.Count();

    public long LiveSize => Live.Sum(m => m.Entry.ReportedSize);

    public IReadOnlyList<Pop3MailboxMessage> Deleted =>
        [.. entries.Where((_, i) => _deleted[i]).Select(e => e.Message)];

    /// <summary>Finds a live message by its number as sent; returns the <c>-ERR</c> text when there is none.</summary>
    public string? TryFind(string argument, out int number, out MaildropEntry entry)
    {
        entry = null!;
        if (!int.TryParse(argument, NumberStyles.None, CultureInfo.InvariantCulture, out number))
            return "-ERR Invalid message number.";
        if (number < 1 || number > entries.Length)
            return $"-ERR There's no message {number}.";
        if (_deleted[number - 1])
            return $"-ERR Message {number} is deleted.";
        entry = entries[number - 1];
        return null;
    }

    public void Delete(int number) => _deleted[number - 1] = true;

    /// <summary>What the session reports for a message from now on (a fault changed it mid-session).</summary>
    public void Replace(int number, MaildropEntry entry) => entries[number - 1] = entry;

    public void Reset() => Array.Clear(_deleted);
}
