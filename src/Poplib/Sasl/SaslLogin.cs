using System.Text;

namespace Poplib.Sasl;

/// <summary>
/// LOGIN (the draft mechanism most servers still offer): the user name, then the password, each in
/// answer to a server prompt. Needs TLS.
/// </summary>
public sealed class SaslLogin : ISaslMechanism
{
    private readonly string _userName;
    private readonly string _password;
    private int _step;

    /// <param name="userName">The user name.</param>
    /// <param name="password">The password.</param>
    public SaslLogin(string userName, string password)
    {
        ArgumentException.ThrowIfNullOrEmpty(userName);
        ArgumentNullException.ThrowIfNull(password);
        _userName = userName;
        _password = password;
    }

    /// <inheritdoc/>
    public string Name => "LOGIN";

    /// <inheritdoc/>
    public bool ExposesSecret => true;

    /// <inheritdoc/>
    public bool HasInitialResponse => false;

    /// <inheritdoc/>
    public byte[] Respond(ReadOnlySpan<byte> challenge) =>
        // The prompts ("Username:", "Password:") vary between servers; only their order counts.
        _step++ switch
        {
            0 => Encoding.UTF8.GetBytes(_userName),
            1 => Encoding.UTF8.GetBytes(_password),
            _ => throw new SaslException("The server sent a third LOGIN challenge."),
        };

    /// <inheritdoc/>
    public void Complete()
    {
    }
}
