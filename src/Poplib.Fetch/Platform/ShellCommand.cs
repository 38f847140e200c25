using System.Diagnostics;

namespace Poplib.Fetch.Platform;

/// <summary>A command line from the user (an MDA, a password command), run the way a shell runs it.</summary>
internal static class ShellCommand
{
    /// <summary>
    /// Start information for <c>/bin/sh -c script</c> (<c>cmd.exe /c</c> on Windows), our environment
    /// inherited except what <paramref name="hidden"/> names.
    /// </summary>
    public static ProcessStartInfo StartInfo(string script, ChildEnvironment hidden)
    {
        var start = new ProcessStartInfo(OperatingSystem.IsWindows() ? "cmd.exe" : "/bin/sh") { UseShellExecute = false };
        start.ArgumentList.Add(OperatingSystem.IsWindows() ? "/c" : "-c");
        start.ArgumentList.Add(script);
        hidden.Scrub(start);
        return start;
    }
}
