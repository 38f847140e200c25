using Poplib.Fetch.Platform;

namespace Poplib.Fetch.OAuth;

/// <summary>
/// Access tokens printed by a command of the user's (a token helper such as <c>mutt_oauth2.py</c> or
/// <c>oauth2ms</c>, run by <c>/bin/sh -c</c>): for a program that signs in some other way. The command
/// runs for every token asked for — a helper keeps and refreshes its own token, so a long-running program
/// never holds one past its hour; after the server refused a token the next call runs it again.
/// </summary>
/// <remarks>
/// The command must print the token alone: one line, its final newline (LF or CR LF) dropped. Anything
/// else (nothing, a second line, a space or a control character, more than 64 KiB, a non-zero exit
/// status, no end within the timeout) is an <see cref="OAuth2Exception"/> that names the command and
/// never what it printed. Its standard error goes where this process's goes.
/// </remarks>
public sealed class CommandOAuth2TokenSource : IOAuth2TokenSource
{
    private const string What = "the access token command";

    private readonly string _commandLine;
    private readonly TimeSpan _timeout;
    private string? _refused;
    private int _runs;

    /// <param name="commandLine">The command, as a shell reads it; not empty.</param>
    /// <param name="timeout">How long it may run (then it and its children are killed); null: 60 seconds.</param>
    public CommandOAuth2TokenSource(string commandLine, TimeSpan? timeout = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(commandLine);
        if (timeout is { } given && given <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(timeout), given, "The timeout must be positive.");
        _commandLine = commandLine;
        _timeout = timeout ?? SecretCommand.DefaultTimeout;
    }

    /// <summary>Variables (and secrets) the command must not inherit: the other accounts' passwords.</summary>
    internal ChildEnvironment Hidden { get; init; } = ChildEnvironment.None;

    /// <summary>How many times the command ran (for tests and diagnostics).</summary>
    public int RunCount => Volatile.Read(ref _runs);

    /// <inheritdoc/>
    /// <exception cref="OAuth2Exception">The command failed or printed something that is not a token.</exception>
    public OAuth2AccessToken GetAccessToken(CancellationToken cancellationToken = default)
    {
        ValueTask<OAuth2AccessToken> task = GetCoreAsync(async: false, cancellationToken);
        return task.IsCompleted ? task.Result : task.AsTask().GetAwaiter().GetResult();
    }

    /// <inheritdoc cref="GetAccessToken"/>
    public Task<OAuth2AccessToken> GetAccessTokenAsync(CancellationToken cancellationToken = default) =>
        GetCoreAsync(async: true, cancellationToken).AsTask();

    /// <inheritdoc/>
    /// <returns>True: the command runs again for the next token.</returns>
    public bool Invalidate(OAuth2AccessToken refused)
    {
        _refused = refused.Value;
        return true;
    }

    private async ValueTask<OAuth2AccessToken> GetCoreAsync(bool async, CancellationToken cancellationToken)
    {
        string output;
        try
        {
            Interlocked.Increment(ref _runs);
            output = await SecretCommand.RunAsync(_commandLine, Hidden, _timeout, What, async, cancellationToken).ConfigureAwait(false);
        }
        catch (SecretCommandException e)
        {
            throw new OAuth2Exception(e.Message, innerException: e);
        }

        string token = output.EndsWith("\r\n", StringComparison.Ordinal) ? output[..^2]
            : output.EndsWith('\n') ? output[..^1]
            : output;
        if (token.Length == 0)
            throw new OAuth2Exception($"{What} printed nothing: {_commandLine}");
        // A token is one word of visible ASCII (RFC 6750's b64token): a line break or control character
        // would end or split the SASL message it goes into.
        if (token.Any(c => c is <= ' ' or >= '\x7f'))
            throw new OAuth2Exception($"{What} printed more than a token (a second line, a space or a control character): {_commandLine}");
        // A helper that hands out the token just refused would only be refused again.
        if (token == _refused)
            throw new OAuth2Exception($"{What} printed the access token the server has just refused: {_commandLine}");
        return new OAuth2AccessToken(token);
    }

    /// <summary>Names the command only.</summary>
    public override string ToString() => $"CommandOAuth2TokenSource({_commandLine})";
}
