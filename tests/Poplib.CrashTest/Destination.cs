using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Poplib.CrashTest;

/// <summary>One message found in the destination.</summary>
/// <param name="Location">Where: a Maildir file (<c>new/…</c>, <c>cur/…</c>) or an mbox offset.</param>
/// <param name="Content">The message as delivered (for an mbox: unquoted, separator removed).</param>
/// <param name="Problem">Why it is malformed as a delivery (a truncated mbox entry, a bad separator), or null.</param>
internal sealed record DeliveredItem(string Location, byte[] Content, string? Problem)
{
    public string Hash { get; } = Convert.ToHexString(SHA256.HashData(Content));

    /// <summary>The Message-ID header in the first few KB, to say which message a corrupt item was meant to be.</summary>
    public string? MessageId
    {
        get
        {
            string head = Encoding.UTF8.GetString(Content, 0, Math.Min(Content.Length, 4096));
            Match match = Regex.Match(head, @"^Message-ID: (<[^>\n]*>)", RegexOptions.Multiline | RegexOptions.IgnoreCase);
            return match.Success ? match.Groups[1].Value : null;
        }
    }
}

/// <summary>Reads what <c>poplib fetch</c> delivered: a Maildir's <c>new/</c> and <c>cur/</c>, or an mboxrd file.</summary>
internal abstract class Destination
{
    /// <summary>The argument pair that names it to <c>poplib fetch</c>.</summary>
    public abstract IReadOnlyList<string> FetchArguments { get; }

    /// <summary>Dot-locks the CLI takes on it (held by their existence, so none may outlive a run).</summary>
    public virtual IReadOnlyCollection<string> DotLocks => [];

    /// <summary>Every delivered message, in a stable order.</summary>
    public abstract IReadOnlyList<DeliveredItem> Scan();

    /// <summary>Partial deliveries a kill may leave behind and the next run may clean up (Maildir <c>tmp/</c> files).</summary>
    public abstract IReadOnlyCollection<string> Leftovers();

    public static Destination Create(DeliveryMode mode, string workDirectory, DovecotLmtp? dovecot = null) => mode switch
    {
        DeliveryMode.Maildir => new MaildirDestination(Path.Combine(workDirectory, "Maildir")),
        DeliveryMode.Lmtp => dovecot!.NewDestination(),
        _ => new MboxDestination(Path.Combine(workDirectory, "mail.mbox")),
    };
}

internal class MaildirDestination(string path) : Destination
{
    private readonly Dictionary<string, (long Length, DateTime Modified, DeliveredItem Item)> _cache = new(StringComparer.Ordinal);

    public string Path { get; } = path;

    public override IReadOnlyList<string> FetchArguments => ["--maildir", Path];

    public override IReadOnlyList<DeliveredItem> Scan()
    {
        var items = new List<DeliveredItem>();
        foreach (string folder in new[] { "new", "cur" })
        {
            string directory = System.IO.Path.Combine(Path, folder);
            if (!Directory.Exists(directory))
                continue;
            foreach (string file in Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal))
            {
                var info = new FileInfo(file);
                string location = folder + "/" + info.Name;
                if (!_cache.TryGetValue(location, out var cached) || cached.Length != info.Length || cached.Modified != info.LastWriteTimeUtc)
                {
                    byte[] content;
                    try
                    {
                        content = Read(File.ReadAllBytes(file));
                    }
                    catch (FileNotFoundException)
                    {
                        continue;
                    }

                    cached = (info.Length, info.LastWriteTimeUtc, new DeliveredItem(location, content, null));
                    _cache[location] = cached;
                }

                items.Add(cached.Item);
            }
        }

        return items;
    }

    /// <summary>The message in a stored file (as it is, here).</summary>
    protected virtual byte[] Read(byte[] stored) => stored;

    public override IReadOnlyCollection<string> Leftovers()
    {
        string tmp = System.IO.Path.Combine(Path, "tmp");
        return Directory.Exists(tmp) ? [.. Directory.EnumerateFiles(tmp).Select(System.IO.Path.GetFileName)!] : [];
    }

    /// <summary>
    /// Plays a mail reader: moves up to <paramref name="count"/> files from <c>new/</c> to <c>cur/</c>
    /// with the Seen flag, as an MUA does, between runs. Returns the moves made.
    /// </summary>
    public IReadOnlyList<(string From, string To)> MoveToCur(Random random, int count)
    {
        string newDirectory = System.IO.Path.Combine(Path, "new");
        string curDirectory = System.IO.Path.Combine(Path, "cur");
        if (!Directory.Exists(newDirectory))
            return [];
        Directory.CreateDirectory(curDirectory);
        string[] files = [.. Directory.EnumerateFiles(newDirectory).Order(StringComparer.Ordinal)];
        var moves = new List<(string, string)>();
        for (int i = 0; i < count && files.Length > 0; i++)
        {
            string file = files[random.Next(files.Length)];
            string name = System.IO.Path.GetFileName(file);
            string target = System.IO.Path.Combine(curDirectory, name.Contains(':', StringComparison.Ordinal) ? name : name + ":2,S");
            if (!File.Exists(file) || File.Exists(target))
                continue;
            File.Move(file, target);
            moves.Add(("new/" + name, "cur/" + System.IO.Path.GetFileName(target)));
        }

        return moves;
    }
}

/// <summary>
/// An mboxrd file: each message is a <c>From sender asctime</c> line, the message with one more
/// <c>&gt;</c> on lines matching <c>^&gt;*From </c>, and an empty line.
/// </summary>
internal sealed partial class MboxDestination(string path) : Destination
{
    public string Path { get; } = path;

    public override IReadOnlyList<string> FetchArguments => ["--mbox", Path];

    public override IReadOnlyCollection<string> DotLocks => [Path + ".lock"];

    public override IReadOnlyList<DeliveredItem> Scan()
    {
        byte[] data;
        try
        {
            data = File.ReadAllBytes(Path);
        }
        catch (FileNotFoundException)
        {
            return [];
        }

        return Parse(data);
    }

    public override IReadOnlyCollection<string> Leftovers() => [];

    /// <summary>Splits an mboxrd file into its messages, unquoted; anything malformed is an item with a problem.</summary>
    internal static IReadOnlyList<DeliveredItem> Parse(ReadOnlySpan<byte> data)
    {
        var items = new List<DeliveredItem>();
        int position = 0;
        if (data.Length > 0 && !data.StartsWith("From "u8))
        {
            int first = FindSeparator(data, 0);
            int end = first < 0 ? data.Length : first;
            items.Add(new DeliveredItem("offset 0", data[..end].ToArray(), $"{end} bytes before the first From line"));
            position = end;
        }

        while (position < data.Length)
        {
            int lineEnd = data[position..].IndexOf((byte)'\n');
            int bodyStart = lineEnd < 0 ? data.Length : position + lineEnd + 1;
            string fromLine = Encoding.UTF8.GetString(data[position..(lineEnd < 0 ? data.Length : position + lineEnd)]);
            int next = FindSeparator(data, bodyStart);
            int end = next < 0 ? data.Length : next;
            ReadOnlySpan<byte> raw = data[bodyStart..end];

            string? problem = null;
            if (lineEnd < 0)
                problem = "the file ends inside a From line";
            else if (!FromLinePattern().IsMatch(fromLine))
                problem = $"malformed separator line '{fromLine}'";
            else if (!raw.EndsWith("\n\n"u8))
                problem = "not ended by an empty line (truncated?)";

            ReadOnlySpan<byte> message = raw.EndsWith("\n"u8) && problem is null ? raw[..^1] : raw;
            items.Add(new DeliveredItem($"offset {position}", Unquote(message), problem));
            position = end;
        }

        return items;
    }

    /// <summary>The start of the next line at or after <paramref name="from"/> (a line start) that begins with "From ".</summary>
    private static int FindSeparator(ReadOnlySpan<byte> data, int from)
    {
        int position = from;
        while (position < data.Length)
        {
            if (data[position..].StartsWith("From "u8))
                return position;
            int lineEnd = data[position..].IndexOf((byte)'\n');
            if (lineEnd < 0)
                return -1;
            position += lineEnd + 1;
        }

        return -1;
    }

    /// <summary>Removes one '&gt;' from every line matching <c>^&gt;+From </c>.</summary>
    private static byte[] Unquote(ReadOnlySpan<byte> message)
    {
        var result = new byte[message.Length];
        int length = 0;
        int position = 0;
        while (position < message.Length)
        {
            int lineEnd = message[position..].IndexOf((byte)'\n');
            int end = lineEnd < 0 ? message.Length : position + lineEnd + 1;
            ReadOnlySpan<byte> line = message[position..end];
            int quotes = 0;
            while (quotes < line.Length && line[quotes] == (byte)'>')
                quotes++;
            if (quotes > 0 && line[quotes..].StartsWith("From "u8))
                line = line[1..];
            line.CopyTo(result.AsSpan(length));
            length += line.Length;
            position = end;
        }

        return result[..length];
    }

    // `From <sender> <asctime>`: asctime is "Www Mmm dd hh:mm:ss yyyy", the day space-padded.
    [GeneratedRegex(@"^From \S+ (Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 0-3]\d \d\d:\d\d:\d\d \d{4}$")]
    private static partial Regex FromLinePattern();
}
