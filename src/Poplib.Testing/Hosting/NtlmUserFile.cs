namespace Poplib.Testing.Hosting;

/// <summary>
/// The users the platform's NTLM acceptor knows: on Linux gss-ntlmssp reads <c>DOMAIN:user:password</c>
/// lines from the file <c>NTLM_USER_FILE</c> names, at each exchange. Every NTLM server of the process
/// adds its users to it; the file is rewritten whole and renamed into place, so the acceptor never
/// reads half a line. (On Windows the acceptor is SSPI, which checks Windows accounts instead: no file.)
/// </summary>
internal static class NtlmUserFile
{
    private static readonly Lock s_lock = new();
    private static readonly Dictionary<(string Domain, string User), string> s_users = [];

    /// <summary>The file's path, or an explanation of why NTLM cannot be offered.</summary>
    public static string? RequirePath()
    {
        if (OperatingSystem.IsWindows())
            return null;
        string? path = Environment.GetEnvironmentVariable("NTLM_USER_FILE");
        if (string.IsNullOrEmpty(path))
        {
            throw new InvalidOperationException(
                "Offering NTLM needs the NTLM_USER_FILE environment variable from the process's start: the platform's NTLM acceptor " +
                "(gss-ntlmssp on Linux) reads the users from that file, and native code does not see variables set from .NET. " +
                "Set it in the test run's environment (a .runsettings file, or the shell).");
        }

        return Path.GetFullPath(path);
    }

    public static void Add(string domain, string user, string password)
    {
        if (OperatingSystem.IsWindows())
            return;
        // gss-ntlmssp splits each line at ':' and has no escape for it.
        if (user.Contains(':', StringComparison.Ordinal) || password.Contains(':', StringComparison.Ordinal))
            throw new ArgumentException("An NTLM user's name and password cannot contain ':' (the user file's separator).");
        string path = RequirePath()!;
        lock (s_lock)
        {
            s_users[(domain, user)] = password;
            string temporary = path + ".tmp" + Environment.ProcessId;
            // Passwords: readable by this user only.
            using (var file = new FileStream(temporary, new FileStreamOptions
            {
                Mode = FileMode.Create,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            }))
            using (var writer = new StreamWriter(file))
            {
                foreach (((string d, string u), string p) in s_users)
                    writer.Write($"{d}:{u}:{p}\n");
            }

            File.Move(temporary, path, overwrite: true);
        }
    }
}
