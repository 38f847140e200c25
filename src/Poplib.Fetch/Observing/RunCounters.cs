namespace Poplib.Cli.Fetch;

/// <summary>How one account's run went: the summary table's row, and the JSON output's object.</summary>
internal sealed class AccountReport(string name)
{
    public string Name { get; } = name;

    /// <summary>Messages on the server at login, and their octets (LIST).</summary>
    public int OnServer { get; set; }

    public long OnServerBytes { get; set; }

    /// <summary>Messages this run will download, and their octets (the progress totals).</summary>
    public int ToFetch { get; set; }

    public long ToFetchBytes { get; set; }

    /// <summary>Messages delivered (durable and recorded) in this run, and their octets as received.</summary>
    public int Delivered { get; set; }

    public long DeliveredBytes { get; set; }

    public int Deleted { get; set; }

    public int SkippedOversize { get; set; }

    public int HeadersOnly { get; set; }

    public int Duplicates { get; set; }

    public int Refused { get; set; }

    /// <summary>Messages a delivery command rejected (non-zero exit): not delivered, left on the server.</summary>
    public int Rejected { get; set; }

    public TimeSpan Elapsed { get; set; }

    /// <summary>0 when the account went well; else the exit code its failure maps to.</summary>
    public int ExitCode { get; set; }

    public string? Error { get; set; }

    public bool Interrupted { get; set; }

    public List<string> Warnings { get; } = [];

    public string Status => Interrupted ? "interrupted" : ExitCode == 0 ? (Refused > 0 ? "ok (some refused)" : "ok") : "failed";
}
