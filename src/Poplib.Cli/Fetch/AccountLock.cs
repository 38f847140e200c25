using System.Security.Cryptography;
using System.Text;

namespace Poplib.Cli.Fetch;

/// <summary>
/// Keeps two fetches of one mailbox (two cron jobs, a manual run during a cron run) from running at
/// once: an exclusive lock on a file beside the state, which the kernel releases when the process
/// ends, however it ends.
/// </summary>
internal sealed class AccountLock : IDisposable
{
    private readonly FileStream _file;

    private AccountLock(FileStream file) => _file = file;

    public static AccountLock Acquire(string statePath, string account)
    {
        string folder = Path.Combine(Path.GetDirectoryName(statePath)!, "locks");
        Directory.CreateDirectory(folder);
        string name = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(account)))[..24] + ".lock";
        try
        {
            // FileShare.None is an exclusive flock() on Unix: released by the kernel if we are killed.
            var file = new FileStream(Path.Combine(folder, name), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            file.SetLength(0);
            file.Write(Encoding.UTF8.GetBytes($"{Environment.ProcessId} {account}\n"));
            file.Flush();
            return new AccountLock(file);
        }
        catch (IOException e)
        {
            throw new CliException(ExitCodes.TemporaryFailure, $"another poplib fetch is running for {account}; try again when it has finished", e);
        }
    }

    public void Dispose() => _file.Dispose();
}
