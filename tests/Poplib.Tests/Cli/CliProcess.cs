using System.Diagnostics;

namespace Poplib.Tests.Cli;

/// <summary>
/// Runs the built <c>poplib</c> as a separate process, for what cannot be set per test inside one
/// process: the umask, TMPDIR, the environment a delivery command inherits.
/// </summary>
internal static class CliProcess
{
    public sealed record Outcome(int ExitCode, string Out, string Error);

    /// <summary>Runs <c>poplib</c> with <paramref name="arguments"/> under <paramref name="umask"/> (octal, e.g. "000").</summary>
    /// <param name="arguments">The command line after "poplib".</param>
    /// <param name="umask">The umask it runs under.</param>
    /// <param name="environment">Variables to set.</param>
    /// <param name="closeOutputAfter">Close the read end of its standard output after this many bytes, as <c>| head -c N</c> does.</param>
    public static async Task<Outcome> RunAsync(IReadOnlyList<string> arguments, string umask = "022", IReadOnlyDictionary<string, string>? environment = null, int? closeOutputAfter = null)
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "Poplib.Cli");
        var start = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"umask {umask}; exec \"$0\" \"$@\"");
        start.ArgumentList.Add(cli);
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        foreach ((string name, string value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;

        using Process process = Process.Start(start)!;
        process.StandardInput.Close();
        Task<string> output = closeOutputAfter is int bytes ? ReadThenCloseAsync(process.StandardOutput.BaseStream, bytes) : process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("poplib did not finish within 2 minutes: " + await error);
        }

        return new Outcome(process.ExitCode, await output, await error);
    }

    private static async Task<string> ReadThenCloseAsync(Stream output, int limit)
    {
        byte[] buffer = new byte[limit];
        int read = 0;
        while (read < limit && await output.ReadAsync(buffer.AsMemory(read)) is > 0 and var n)
            read += n;
        output.Close();
        return System.Text.Encoding.UTF8.GetString(buffer, 0, read);
    }
}

/// <summary>A test that needs root (to give files to another user); skipped otherwise.</summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root")
            Skip = "needs root on Linux (to make files belong to another user)";
    }
}
