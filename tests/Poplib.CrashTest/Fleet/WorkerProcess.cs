using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Poplib.CrashTest.Fleet;

/// <summary>
/// One worker of the fleet as a child process: started, SIGKILLed, frozen (SIGSTOP/SIGCONT) or stopped (SIGTERM) by the
/// harness, which reads its lines (the database's outage and return) and knows it in the leases by its owner name.
/// </summary>
internal sealed class WorkerProcess : IDisposable
{
    private const int OutputTail = 16_384;
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private int _unreachable;
    private int _back;
    private volatile bool _started;

    private WorkerProcess(Process process, int number)
    {
        _process = process;
        Number = number;
    }

    /// <summary>1, 2, 3 … in the order started.</summary>
    public int Number { get; }

    public int Pid => _process.Id;

    /// <summary>Its name in the leases: <c>host:pid</c>, the default of both the CLI and the library.</summary>
    public string Owner => $"{Environment.MachineName}:{Pid}";

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>"The database is unreachable (…); trying again" lines so far.</summary>
    public int UnreachableLines => Volatile.Read(ref _unreachable);

    /// <summary>"The database … is back" lines so far.</summary>
    public int BackLines => Volatile.Read(ref _back);

    /// <summary>Whether it logged "Fetch worker … started": its database is open and its signal handlers are set.</summary>
    public bool IsStarted => _started;

    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    public static WorkerProcess Start(int number, string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        foreach ((string name, string value) in environment)
            start.Environment[name] = value;
        var process = new Process { StartInfo = start };
        var worker = new WorkerProcess(process, number);
        process.OutputDataReceived += (_, e) => worker.Collect(e.Data);
        process.ErrorDataReceived += (_, e) => worker.Collect(e.Data);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
    }

    private void Collect(string? line)
    {
        if (line is null)
            return;
        if (line.Contains("Fetch worker ", StringComparison.Ordinal) && line.Contains(" started", StringComparison.Ordinal))
            _started = true;
        if (line.Contains("The database is unreachable", StringComparison.Ordinal))
            Interlocked.Increment(ref _unreachable);
        if (line.Contains("The database ", StringComparison.Ordinal) && line.Contains(" is back", StringComparison.Ordinal))
            Interlocked.Increment(ref _back);
        lock (_output)
        {
            _output.Append(line).Append('\n');
            if (_output.Length > 2 * OutputTail)
                _output.Remove(0, _output.Length - OutputTail);
        }
    }

    /// <summary>Waits until it has started (or exited, or <paramref name="limit"/> passed).</summary>
    public async Task WaitStartedAsync(TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (!_started && !_process.HasExited && clock.Elapsed < limit)
            await Task.Delay(50);
    }

    /// <summary>SIGKILL; returns once it is gone, with its exit status (137 if the kill ended it).</summary>
    public async Task<int> KillAsync()
    {
        if (!_process.HasExited)
            _process.Kill();
        await WaitAsync(TimeSpan.FromSeconds(30), "SIGKILL");
        return _process.ExitCode;
    }

    public Task FreezeAsync() => SignalAsync("STOP");

    public Task ThawAsync() => SignalAsync("CONT");

    /// <summary>SIGTERM, then waits for the exit (a graceful stop takes a few seconds); returns the exit status.</summary>
    public async Task<int> TerminateAsync()
    {
        await SignalAsync("TERM");
        await WaitAsync(TimeSpan.FromSeconds(30), "SIGTERM");
        return _process.ExitCode;
    }

    private async Task SignalAsync(string signal)
    {
        if (_process.HasExited)
            return;
        using Process kill = Process.Start("kill", ["-" + signal, Pid.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
    }

    private async Task WaitAsync(TimeSpan limit, string after)
    {
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            throw new HarnessException($"worker {Number} (pid {Pid}) still running {limit.TotalSeconds:F0} s after {after}; its output:\n{Output}");
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
                _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }
}
