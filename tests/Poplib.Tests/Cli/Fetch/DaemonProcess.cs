using System.Diagnostics;

namespace Poplib.Tests.Cli.Fetch;

/// <summary><c>poplib</c> started as a real process (a daemon), signalled, and waited on with a limit.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal static class DaemonProcess
{
    /// <summary>Starts the built CLI with <paramref name="arguments"/>, FetchWorld's password variable set, stdin closed.</summary>
    public static Process Start(IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "Poplib.Cli"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        start.Environment[FetchWorld.PasswordVariable] = FetchWorld.Password;
        foreach ((string name, string value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;
        Process process = Process.Start(start)!;
        process.StandardInput.Close();
        return process;
    }

    /// <summary>Collects what <paramref name="daemon"/> prints on stdout and stderr, from now on; the result reads it so far.</summary>
    public static Func<string> CaptureOutput(Process daemon)
    {
        var log = new System.Text.StringBuilder();
        daemon.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        daemon.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        daemon.BeginOutputReadLine();
        daemon.BeginErrorReadLine();
        return () =>
        {
            lock (log)
                return log.ToString();
        };
    }

    /// <summary>Sends <paramref name="signal"/> (HUP, TERM) with kill(1).</summary>
    public static void Signal(Process process, string signal)
    {
        using Process kill = Process.Start("kill", ["-" + signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
    }

    /// <summary>Waits up to 30 seconds for <paramref name="condition"/>; the timeout's message holds the daemon's log.</summary>
    public static async Task Until(Func<bool> condition, string what, Func<string> log)
    {
        DateTime end = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            if (DateTime.UtcNow > end)
                throw new TimeoutException($"timed out waiting for {what}; the daemon said:\n{log()}");
            await Task.Delay(100);
        }
    }
}
