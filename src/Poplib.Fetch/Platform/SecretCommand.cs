using System.Diagnostics;
using System.Text;

namespace Poplib.Fetch.Platform;

/// <summary>
/// Runs a user's command that prints a secret (<c>pass show mail/work</c> for a password, a token helper
/// for an OAuth 2.0 access token) and returns what it printed: the one runner for passwords and tokens.
/// The output is bounded, the command has a time limit (then it and its children are killed), its exit
/// status is checked. Its standard error is not captured: it goes where ours goes (a password manager
/// may ask there for its passphrase), never into an exception message.
/// </summary>
internal static class SecretCommand
{
    /// <summary>How long a command may take by default: long enough for a password manager's own prompt.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    /// <summary>More than any password or access token (Microsoft's are a few kB): the rest is not a secret but a runaway.</summary>
    public const int MaxOutputBytes = 64 * 1024;

    /// <summary>Everything the command printed on standard output, decoded as UTF-8.</summary>
    /// <param name="commandLine">Run by /bin/sh (cmd.exe on Windows).</param>
    /// <param name="hidden">What the command must not inherit.</param>
    /// <param name="timeout">How long it may run, after which it and its children are killed.</param>
    /// <param name="what">What the command is, for messages ("the password command").</param>
    /// <param name="async">Wait asynchronously, or block the calling thread.</param>
    /// <param name="cancellationToken">Kills the command when cancelled.</param>
    /// <exception cref="SecretCommandException">Empty command, not started, too slow, too much output, or a non-zero exit status.</exception>
    public static async ValueTask<string> RunAsync(string commandLine, ChildEnvironment hidden, TimeSpan timeout, string what, bool async, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(commandLine))
            throw new SecretCommandException($"{what} is empty");
        ProcessStartInfo start = ShellCommand.StartInfo(commandLine, hidden);
        start.RedirectStandardOutput = true;
        using Process process = Process.Start(start) ?? throw new SecretCommandException($"cannot start {what}: {commandLine}");
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task<byte[]?> run = CollectAsync(process, stop.Token);
        bool done;
        try
        {
            if (async)
                done = await WaitAsync(run, timeout, cancellationToken).ConfigureAwait(false);
            else
                done = WaitSync(run, timeout, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Kill(process, stop);
            throw;
        }

        if (!done)
        {
            Kill(process, stop);
            throw new SecretCommandException($"{what} did not finish within {timeout.TotalSeconds:0.#} s: {commandLine}");
        }

        byte[] output = await run.ConfigureAwait(false) ?? throw Overflow(process, stop, what, commandLine);
        if (process.ExitCode != 0)
            throw new SecretCommandException($"{what} failed with exit status {process.ExitCode}: {commandLine}");
        return Encoding.UTF8.GetString(output);
    }

    // Its output once it has ended; null as soon as it printed more than MaxOutputBytes (it is killed then, not drained).
    private static async Task<byte[]?> CollectAsync(Process process, CancellationToken cancellationToken)
    {
        byte[]? output = await ReadBoundedAsync(process.StandardOutput.BaseStream, cancellationToken).ConfigureAwait(false);
        if (output is not null)
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        return output;
    }

    private static async ValueTask<bool> WaitAsync(Task run, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await run.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private static bool WaitSync(Task run, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            return run.Wait(timeout, cancellationToken);
        }
        catch (AggregateException)
        {
            return true; // ended with an error, thrown as itself when the result is read
        }
    }

    private static SecretCommandException Overflow(Process process, CancellationTokenSource stop, string what, string commandLine)
    {
        Kill(process, stop);
        return new SecretCommandException($"{what} printed more than {MaxOutputBytes / 1024} KiB: {commandLine}");
    }

    private static async Task<byte[]?> ReadBoundedAsync(Stream stdout, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxOutputBytes + 1];
        int length = 0;
        while (length < buffer.Length)
        {
            int read = await stdout.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (read == 0)
                return buffer[..length];
            length += read;
        }

        return null;
    }

    private static void Kill(Process process, CancellationTokenSource stop)
    {
        stop.Cancel();
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It ended on its own in the meantime.
        }
    }
}

/// <summary>A secret command failed; the message names the command and what went wrong, never what it printed.</summary>
internal sealed class SecretCommandException(string message) : Exception(message);
