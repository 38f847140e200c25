using System.Diagnostics;

namespace Poplib.CrashTest;

/// <summary>The repository holding this program: its root, the CLI it builds, and its scripts (scripts/*.sh).</summary>
internal static class Repository
{
    /// <summary>The repository holding this program (the folder with Poplib.sln).</summary>
    public static string Root()
    {
        for (DirectoryInfo? d = new(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "Poplib.sln")))
                return d.FullName;
        }

        throw new HarnessException($"no Poplib.sln above {AppContext.BaseDirectory}; pass --cli");
    }

    /// <summary>src/Poplib.Cli/bin/&lt;this build's configuration&gt;/net10.0/Poplib.Cli.dll in the repository holding this program.</summary>
    public static string DefaultCli()
    {
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent?.Name ?? "Debug";
        return Path.Combine(Root(), "src", "Poplib.Cli", "bin", configuration, "net10.0", "Poplib.Cli.dll");
    }

    /// <summary>Runs <c>bash SCRIPT ARGUMENTS…</c>; returns its standard output, or throws with its output if it failed.</summary>
    public static string RunScript(string script, params string[] arguments)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(script);
        foreach (string argument in arguments)
            info.ArgumentList.Add(argument);
        using Process process = Process.Start(info)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new HarnessException($"{Path.GetFileName(script)} {string.Join(' ', arguments)} failed ({process.ExitCode}): {stdout.Result}{stderr.Result}");
        return stdout.Result;
    }

    /// <summary>A script's env file (<c>KEY=VALUE</c> lines, as scripts/README.md describes) as a dictionary.</summary>
    public static Dictionary<string, string> ReadEnv(string path) =>
        File.ReadAllLines(path)
            .Where(l => l.Contains('=', StringComparison.Ordinal))
            .Select(l => l.Split('=', 2))
            .ToDictionary(p => p[0], p => p[1].Trim('\'', '"'), StringComparer.Ordinal);
}
