using System.Globalization;
using System.Text;
using Poplib.Fetch;

namespace Poplib.Cli.Fetch.Progress;

/// <summary>
/// A live display on a terminal: one line per account with a bar, messages and octets against the
/// totals from LIST, redrawn in place a few times a second. Warnings and errors scroll above it.
/// </summary>
internal sealed class LiveProgress : IFetchProgress, IDisposable
{
    private const int BarWidth = 24;
    private readonly TextWriter _output;
    private readonly Lock _gate = new();
    private readonly List<FetchProgress> _accounts = [];
    private readonly Dictionary<string, string> _states = new(StringComparer.Ordinal);
    private readonly Timer _timer;
    private int _drawnLines;
    private bool _dirty;

    public LiveProgress(TextWriter output, IEnumerable<string> accountNames)
    {
        _output = output;
        foreach (string name in accountNames)
        {
            _accounts.Add(new FetchProgress(name, 0, 0, 0, 0, 0, 0));
            _states[name] = "waiting";
        }

        _timer = new Timer(_ => Redraw(force: false), null, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(100));
    }

    public void Started(FetchProgress account) => Update(account, "fetching");

    public void Delivered(FetchProgress account, MessageKey key, long octets) => Update(account, "fetching");

    public void Warning(string account, string message) => Above($"{account}: warning: {message}");

    public void Finished(AccountReport account)
    {
        Update(account.Progress, account.Status);
        if (account.Error is not null)
            Above($"{account.Name}: {account.Error}");
    }

    public void Dispose()
    {
        _timer.Dispose();
        Redraw(force: true);
    }

    private void Update(FetchProgress account, string state)
    {
        lock (_gate)
        {
            int index = _accounts.FindIndex(a => a.Account == account.Account);
            if (index < 0)
                _accounts.Add(account);
            else
                _accounts[index] = account;

            _states[account.Account] = state;
            _dirty = true;
        }
    }

    private void Above(string line)
    {
        lock (_gate)
        {
            Erase();
            _output.WriteLine("poplib: " + line);
            _dirty = true;
            Draw();
        }
    }

    private void Redraw(bool force)
    {
        lock (_gate)
        {
            if (!_dirty && !force)
                return;
            Erase();
            Draw();
        }
    }

    private void Erase()
    {
        if (_drawnLines > 0)
            _output.Write($"\u001b[{_drawnLines}A\u001b[J"); // up to the first line, clear to the end of the screen
        _drawnLines = 0;
    }

    private void Draw()
    {
        int nameWidth = Math.Min(30, _accounts.Max(a => a.Account.Length));
        var text = new StringBuilder();
        foreach (FetchProgress account in _accounts)
        {
            int done = account.Delivered + account.HeadersOnly;
            double fraction = account.ToFetchOctets > 0 ? Math.Min(1, (double)account.DeliveredOctets / account.ToFetchOctets)
                : account.ToFetch > 0 ? (double)done / account.ToFetch : (_states[account.Account] == "fetching" ? 0 : 1);
            int filled = (int)(fraction * BarWidth);
            string name = account.Account.Length > nameWidth ? account.Account[..(nameWidth - 1)] + "…" : account.Account.PadRight(nameWidth);
            text.Append(CultureInfo.InvariantCulture,
                $"{name} [{new string('#', filled)}{new string('.', BarWidth - filled)}] {done}/{account.ToFetch} msgs  {Mib(account.DeliveredOctets)}/{Mib(account.ToFetchOctets)} MiB  {_states[account.Account]}\n");
        }

        _output.Write(text.ToString());
        _output.Flush();
        _drawnLines = _accounts.Count;
        _dirty = false;
    }

    private static string Mib(long bytes) => (bytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture);
}
