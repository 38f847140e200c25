using System.Diagnostics;
using System.Text;

namespace Poplib.CrashTest;

/// <summary>How one run of the child ended.</summary>
/// <param name="Killed">SIGKILLed by the harness while it was still running (verified by the exit status).</param>
/// <param name="TimedOut">Still running at the hard time limit (and killed then).</param>
/// <param name="ExitCode">The exit code (137 after SIGKILL).</param>
/// <param name="Elapsed">Start to exit.</param>
/// <param name="Output">stdout and stderr, interleaved, the last few KB.</param>
/// <param name="InSessionAtKill">What the probe said just before the kill (the child had a POP3 session open).</param>
internal sealed record ChildOutcome(bool Killed, bool TimedOut, int ExitCode, TimeSpan Elapsed, string Output, bool InSessionAtKill = false);

/// <summary>Runs <c>poplib fetch</c> as a child process and kills it at a chosen moment.</summary>
internal sealed class FetchChild(string cli, string passwordVariable, string password, TimeSpan timeout)
{
    /// <summary>The exit status of a process killed by SIGKILL, as .NET reports it on Unix (128 + 9).</summary>
    public const int SigKillExitCode = 137;

    private const int OutputTail = 8192;

    public string Cli { get; } = cli;

    /// <summary>
    /// Starts the child; after <paramref name="killAfter"/> (when given)
    /// kills it and its children with SIGKILL if it is still running; in any case kills it at the hard limit.
    /// </summary>
    /// <param name="arguments">The child's arguments.</param>
    /// <param name="killAfter">When to kill it, or null to let it run (up to the hard limit).</param>
    /// <param name="probe">Asked just before the kill whether the child is in a POP3 session.</param>
    /// <param name="terminateWhen">For a daemon: polled with the time since start; once true, the child gets SIGTERM (a graceful stop).</param>
    /// <param name="killClockStartsWhen">For a daemon: <paramref name="killAfter"/> counts from the moment this first holds (polled every few ms), not from the start.</param>
    public async Task<ChildOutcome> RunAsync(IReadOnlyList<string> arguments, TimeSpan? killAfter, Func<bool>? probe = null, Func<TimeSpan, bool>? terminateWhen = null,
        Func<bool>? killClockStartsWhen = null)
    {
        var start = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (Cli.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
        {
            start.FileName = "dotnet";
            start.ArgumentList.Add(Cli);
        }
        else
        {
            start.FileName = Cli;
        }

        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        start.Environment[passwordVariable] = password;

        var output = new StringBuilder();
        void Collect(object sender, DataReceivedEventArgs e)
        {
            if (e.Data is null)
                return;
            lock (output)
            {
                output.Append(e.Data).Append('\n');
                if (output.Length > 2 * OutputTail)
                    output.Remove(0, output.Length - OutputTail);
            }
        }

        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += Collect;
        process.ErrorDataReceived += Collect;
        var clock = Stopwatch.StartNew();
        process.Start();
        process.StandardInput.Close(); // never waits for a prompt's answer
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        Task exited = process.WaitForExitAsync();
        bool timedOut = false;
        bool killRequested = false;
        bool inSession = false;
        TimeSpan wait = killAfter is { } delay && delay < timeout ? delay : timeout;
        if (killAfter is not null && killClockStartsWhen is not null)
        {
            while (!exited.IsCompleted && clock.Elapsed < timeout && !killClockStartsWhen())
                await Task.WhenAny(exited, Task.Delay(2));
            TimeSpan left = timeout - clock.Elapsed;
            wait = wait < left ? wait : left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }

        if (terminateWhen is not null)
        {
            while (!exited.IsCompleted && clock.Elapsed < timeout && !terminateWhen(clock.Elapsed))
                await Task.WhenAny(exited, Task.Delay(200));
            if (!exited.IsCompleted && clock.Elapsed < timeout)
            {
                using (Process term = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
                    await term.WaitForExitAsync();
                wait = TimeSpan.FromSeconds(15); // a graceful stop takes a few seconds at most
            }
            else
            {
                wait = TimeSpan.Zero;
            }
        }

        if (await Task.WhenAny(exited, Task.Delay(wait)) != exited)
        {
            // Only a kill of a running process counts; the exit status below confirms it.
            if (!process.HasExited)
            {
                killRequested = true;
                timedOut = wait == timeout;
                inSession = probe?.Invoke() ?? false;
                process.Kill(entireProcessTree: true);
            }
        }

        if (await Task.WhenAny(exited, Task.Delay(TimeSpan.FromSeconds(30))) != exited)
            throw new InvalidOperationException($"the child (pid {process.Id}) did not end 30 s after SIGKILL");
        await exited; // and the output readers have drained
        clock.Stop();

        string text;
        lock (output)
            text = output.Length > OutputTail ? output.ToString(output.Length - OutputTail, OutputTail) : output.ToString();
        bool killed = killRequested && !timedOut && process.ExitCode == SigKillExitCode;
        return new ChildOutcome(killed, timedOut, process.ExitCode, clock.Elapsed, text, inSession);
    }
}
