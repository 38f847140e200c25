namespace Poplib.Cli.Output;

/// <summary>A plain text table: columns padded to their widest cell, numbers right-aligned. Cells may hold server text: they are made safe for a terminal.</summary>
internal sealed class Table(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public void Add(params string[] cells) => _rows.Add([.. cells.Select(TerminalText.Safe)]);

    public void WriteTo(TextWriter output)
    {
        int[] widths = headers.Select((h, i) => Math.Max(h.Length, _rows.Count == 0 ? 0 : _rows.Max(r => r[i].Length))).ToArray();
        bool[] numeric = headers.Select((_, i) => _rows.Count > 0 && _rows.All(r => r[i].All(c => char.IsAsciiDigit(c) || c == ','))).ToArray();
        output.WriteLine(Format(headers, widths, numeric));
        foreach (string[] row in _rows)
            output.WriteLine(Format(row, widths, numeric));
    }

    private static string Format(string[] cells, int[] widths, bool[] numeric) =>
        string.Join("  ", cells.Select((c, i) => numeric[i] ? c.PadLeft(widths[i]) : c.PadRight(widths[i]))).TrimEnd();
}
