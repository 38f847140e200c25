namespace Poplib.CrashTest;

/// <summary>The verdict: counts, a line for each problem, and failures that are not about a message.</summary>
/// <param name="Duplicated">Messages delivered more than once outside the LMTP window (always a failure).</param>
/// <param name="WindowDuplicated">With <c>lmtpWindow</c>: messages delivered twice (or more) only through the documented LMTP window.</param>
internal sealed record Verdict(int Lost, int Duplicated, int Corrupt, IReadOnlyList<string> Details, IReadOnlyList<string> Failures, int WindowDuplicated = 0);

/// <summary>Compares the destination with every message ever served, and what the server holds (<c>serverHolds</c>) with the policy.</summary>
internal static class Verifier
{
    public static Verdict Check(
        IReadOnlyList<SourceMessage> sources, IReadOnlyList<DeliveredItem> items, RunLog log,
        IReadOnlyList<byte[]> serverHolds, FetchPolicy policy, string work, IReadOnlyCollection<string> dotLocks, bool lmtpWindow = false)
    {
        // The LMTP window: a run killed after the server's final 250 and before its state commit
        // leaves a message delivered and unrecorded, and the next run delivers it again. Such a
        // copy shows after a killed run, and each killed run can leave at most one (the engine
        // confirms each message right after its 250). Every copy but the last must be one of those.
        var killed = log.Runs.Where(r => r.Outcome.Killed).Select(r => r.Number).ToHashSet();
        var windowRuns = new HashSet<int>();
        bool InWindow(DeliveredItem[] copies) =>
            copies.OrderBy(log.FirstSeen).SkipLast(1).All(c => killed.Contains(log.FirstSeen(c)) && windowRuns.Add(log.FirstSeen(c)));
        int window = 0;

        var details = new List<string>();
        var failures = new List<string>();
        ILookup<string, DeliveredItem> copies = items.ToLookup(i => i.Hash, StringComparer.Ordinal);
        var onServer = serverHolds.Select(m => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(m))).ToList();
        var onServerSet = onServer.ToHashSet(StringComparer.Ordinal);

        int lost = 0, duplicated = 0, corrupt = 0;
        foreach (SourceMessage source in sources)
        {
            DeliveredItem[] found = [.. copies[source.Hash]];
            if (found.Length == 0)
            {
                lost++;
                string where = onServerSet.Contains(source.Hash)
                    ? "still on the server: never fetched"
                    : "gone from the server: deleted without being delivered";
                details.Add($"lost: {source.Describe()}; {where}");
            }
            else if (found.Length > 1 && lmtpWindow && InWindow(found))
            {
                window++;
                details.Add($"duplicated in the LMTP window: {source.Describe()}: {found.Length} copies, after runs " +
                    string.Join(", ", found.Select(log.FirstSeen).Order()));
            }
            else if (found.Length > 1)
            {
                duplicated++;
                details.Add($"duplicated: {source.Describe()}: {found.Length} copies: " +
                    string.Join(", ", found.Select(i => $"{i.Location} (after run {log.FirstSeen(i)})")));
            }
        }

        var byMessageId = sources.ToDictionary(m => m.MessageId, StringComparer.Ordinal);
        var known = sources.Select(m => m.Hash).ToHashSet(StringComparer.Ordinal);
        foreach (DeliveredItem item in items.Where(i => i.Problem is not null || !known.Contains(i.Hash)))
        {
            corrupt++;
            string what = item.Problem ?? "matches no message served";
            string meant = item.MessageId is { } id && byMessageId.TryGetValue(id, out SourceMessage? source)
                ? $"; meant to be {source.Describe()}: {Difference(source.Content, item.Content)}"
                : "";
            details.Add($"corrupt: {item.Location} (after run {log.FirstSeen(item)}, {item.Content.Length:N0} bytes): {what}{meant}");
        }

        if (policy == FetchPolicy.Delete && onServer.Count > 0)
        {
            var delivered = items.Select(i => i.Hash).ToHashSet(StringComparer.Ordinal);
            int deliveredStill = onServer.Count(delivered.Contains);
            failures.Add($"--delete: the server still holds {onServer.Count} message(s), {deliveredStill} of them delivered");
        }
        else if (policy == FetchPolicy.Keep)
        {
            var expected = sources.Select(m => m.Hash).Order(StringComparer.Ordinal);
            if (!expected.SequenceEqual(onServer.Order(StringComparer.Ordinal), StringComparer.Ordinal))
                failures.Add($"--keep: the server holds {onServer.Count} message(s), not the {sources.Count} served");
        }

        // Lock files may stay (an flock()ed file is released by the kernel when its process dies), but
        // none may still be held, and no dot-lock (held by its existence) may remain.
        foreach (string file in Directory.EnumerateFiles(work, "*", SearchOption.AllDirectories))
        {
            string name = Path.GetFileName(file);
            if (!name.EndsWith(".lock", StringComparison.OrdinalIgnoreCase) && !name.EndsWith(".lck", StringComparison.OrdinalIgnoreCase))
                continue;
            string relative = Path.GetRelativePath(work, file);
            if (dotLocks.Contains(Path.GetFullPath(file)))
                failures.Add($"dot-lock left behind: {relative}");
            else if (IsHeld(file))
                failures.Add($"lock still held after the last run ended: {relative}");
        }

        return new Verdict(lost, duplicated, corrupt, details, failures, window);
    }

    private static bool IsHeld(string file)
    {
        try
        {
            // FileShare.None takes an exclusive flock() on Unix, as the CLI's locks do.
            using var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    private static string Difference(byte[] expected, byte[] actual)
    {
        int common = expected.AsSpan().CommonPrefixLength(actual);
        if (common == actual.Length && actual.Length < expected.Length)
            return $"truncated after {actual.Length:N0} of {expected.Length:N0} bytes";
        return $"{actual.Length:N0} bytes instead of {expected.Length:N0}, first difference at byte {common:N0}";
    }
}
