using System.Diagnostics;

namespace Poplib.Tests.Infrastructure;

/// <summary>
/// Runs the repository's <c>scripts/*.sh</c> (the servers the integration tests use: Dovecot,
/// PostgreSQL) and other command-line programs, and reads the <c>KEY=VALUE</c> env files the
/// scripts write.
/// </summary>
internal static class ProjectScripts
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(90);

    /// <summary>Runs <c>bash scripts/NAME args…</c>; throws with its output when it exits non-zero.</summary>
    public static ProcessResult RunChecked(string script, params string[] arguments)
    {
        ProcessResult result = Run(script, arguments);
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"{script} {string.Join(' ', arguments)} failed ({result.ExitCode}):\n{result.StandardOutput}\n{result.StandardError}");
        return result;
    }

    /// <summary>Runs <c>bash scripts/NAME args…</c> and returns how it ended.</summary>
    public static ProcessResult Run(string script, params string[] arguments) =>
        RunProgram("bash", [Path.Combine(RepositoryRoot, "scripts", script), .. arguments], environment: null, s_timeout);

    /// <summary>
    /// Runs a program to its end (killed after <paramref name="timeout"/>, which throws), with
    /// extra environment variables; stdin is empty.
    /// </summary>
    public static ProcessResult RunProgram(string fileName, IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string>? environment, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in arguments)
            info.ArgumentList.Add(argument);
        foreach ((string key, string value) in environment ?? new Dictionary<string, string>())
            info.Environment[key] = value;
        using Process process = Process.Start(info)!;
        process.StandardInput.Close();
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{Path.GetFileName(fileName)} {string.Join(' ', info.ArgumentList)} did not finish in {timeout.TotalSeconds:0} s.");
        }

        process.WaitForExit(); // and its output drained
        return new ProcessResult(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>A script's env file: <c>KEY=VALUE</c> lines, values unquoted.</summary>
    public static Dictionary<string, string> ReadEnvFile(string path) => File.ReadAllLines(path)
        .Where(l => l.Contains('='))
        .Select(l => l.Split('=', 2))
        .ToDictionary(p => p[0], p => p[1].Trim('\'', '"'));

    public static string RepositoryRoot
    {
        get
        {
            for (string? dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
            {
                if (File.Exists(Path.Combine(dir, "Poplib.sln")))
                    return dir;
            }

            throw new InvalidOperationException("Cannot find the repository root (Poplib.sln) above " + AppContext.BaseDirectory);
        }
    }
}

internal readonly record struct ProcessResult(int ExitCode, string StandardOutput, string StandardError);
