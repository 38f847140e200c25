using System.Security.Cryptography;
using System.Text;

namespace Poplib.Fetch.Scheduling;

/// <summary>
/// Keeps two fetches of one mailbox (two cron jobs, a manual run during a cron run) from running at
/// once: an exclusive lock on a file in a private folder beside the state, which the kernel releases
/// when the process ends, however it ends.
/// </summary>
internal sealed class AccountLock : IDisposable
{
    private readonly FileStream _file;

    private AccountLock(FileStream file) => _file = file;

    /// <summary>The lock file of an account: in a private folder beside the state, named by a hash of the account key.</summary>
    internal static string PathFor(string statePath, string account) =>
        Path.Combine(Path.GetDirectoryName(statePath)!, "locks", Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(account)))[..24] + ".lock");

    public static AccountLock Acquire(string statePath, string account)
    {
        string path = PathFor(statePath, account);
        StrictModes.RequirePrivateDirectory(Path.GetDirectoryName(path)!, "the lock folder");
        FileStream file;
        try
        {
            file = PrivateFiles.OpenLock(path)
                ?? throw new FetchException(FetchFailure.AccountLocked, $"another poplib fetch is running for {account}; try again when it has finished");
        }
        catch (IOException e)
        {
            throw new FetchException(FetchFailure.State, $"cannot lock {account}: {e.Message}", e);
        }

        // Who holds it, for a person looking; the lock itself is the flock, not this text.
        file.SetLength(0);
        file.Write(Encoding.UTF8.GetBytes($"{Environment.ProcessId} {account}\n"));
        return new AccountLock(file);
    }

    public void Dispose() => _file.Dispose();
}
