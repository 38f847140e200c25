namespace Poplib.Fetch.Platform;

/// <summary>Whether a process still runs: how leftovers of killed poplib runs (spools, tmp/ files, dot-locks) are told from live ones.</summary>
internal static class ProcessProbe
{
    public static bool IsAlive(int pid) =>
        OperatingSystem.IsLinux() ? Directory.Exists($"/proc/{pid}") : Exists(pid);

    private static bool Exists(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
