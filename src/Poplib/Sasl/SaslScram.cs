using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Poplib.Diagnostics;

namespace Poplib.Sasl;

/// <summary>
/// SCRAM (RFC 5802, RFC 7677) without channel binding. The password never leaves the client, and the
/// server proves that it knows the stored key: its final signature is verified, so a login to an
/// impostor fails. An eavesdropper can still run a dictionary attack on the exchange (slowed by the
/// iteration count), so without TLS it needs <see cref="Pop3ClientOptions.AllowInsecureAuthentication"/>.
/// </summary>
public abstract class SaslScram : ISaslMechanism
{
    // A server may ask for any iteration count; bound the work it can make the client do.
    private const int MaxIterations = 10_000_000;

    private readonly HashAlgorithmName _hash;
    private readonly string _userName;
    private readonly string _password;
    private readonly string _clientNonce;
    private string? _clientFirstBare;
    private byte[]? _expectedServerSignature;
    private int _step;
    private bool _serverVerified;

    private protected SaslScram(string name, HashAlgorithmName hash, string userName, string password, string? clientNonce)
    {
        ArgumentException.ThrowIfNullOrEmpty(userName);
        ArgumentNullException.ThrowIfNull(password);
        Name = name;
        _hash = hash;
        // Prepared here, so that credentials SASLprep refuses fail before anything is sent.
        _userName = SaslPrep.Prepare(userName);
        _password = SaslPrep.Prepare(password);
        _clientNonce = clientNonce ?? Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public bool ExposesSecret => false;

    /// <inheritdoc/>
    public bool HasInitialResponse => true;

    /// <inheritdoc/>
    public byte[] Respond(ReadOnlySpan<byte> challenge)
    {
        switch (_step++)
        {
            case 0:
                _clientFirstBare = $"n={EscapeName(_userName)},r={_clientNonce}";
                return Encoding.UTF8.GetBytes("n,," + _clientFirstBare);
            case 1:
                return ClientFinal(Encoding.UTF8.GetString(challenge));
            case 2:
                VerifyServerFinal(Encoding.UTF8.GetString(challenge));
                return [];
            default:
                throw new SaslException($"The server sent more {Name} challenges than the mechanism has.");
        }
    }

    /// <inheritdoc/>
    public void Complete()
    {
        // RFC 5034 sends the server's final message as a last challenge; a server that says +OK
        // without it has not proven it knows the password.
        if (!_serverVerified)
            throw new SaslException($"The server accepted {Name} without sending its signature; it is not authenticated.") { ServerNotAuthenticated = true };
    }

    private byte[] ClientFinal(string serverFirst)
    {
        Dictionary<char, string> fields = ParseFields(serverFirst);
        if (fields.ContainsKey('m'))
            throw new SaslException($"The server requires a {Name} extension this client does not support.");
        if (!fields.TryGetValue('r', out string? nonce) || !nonce.StartsWith(_clientNonce, StringComparison.Ordinal) || nonce.Length == _clientNonce.Length)
            throw new SaslException($"The server's {Name} nonce does not extend the client's.");
        if (!fields.TryGetValue('s', out string? saltText) || !TryFromBase64(saltText, out byte[] salt) || salt.Length == 0)
            throw new SaslException($"The server's {Name} salt is missing or malformed.");
        if (!fields.TryGetValue('i', out string? iterationText)
            || !int.TryParse(iterationText, NumberStyles.None, CultureInfo.InvariantCulture, out int iterations)
            || iterations is < 1 or > MaxIterations)
            throw new SaslException($"The server's {Name} iteration count is missing or outside 1 to {MaxIterations:N0}.");

        byte[] saltedPassword = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(_password), salt, iterations, _hash, HashLength);
        byte[] clientKey = Hmac(saltedPassword, "Client Key"u8);
        byte[] storedKey = CryptographicOperations.HashData(_hash, clientKey);
        string clientFinalWithoutProof = "c=biws,r=" + nonce; // biws = base64("n,,"): no channel binding
        byte[] authMessage = Encoding.UTF8.GetBytes($"{_clientFirstBare},{serverFirst},{clientFinalWithoutProof}");
        byte[] clientSignature = Hmac(storedKey, authMessage);
        byte[] proof = new byte[clientKey.Length];
        for (int i = 0; i < proof.Length; i++)
            proof[i] = (byte)(clientKey[i] ^ clientSignature[i]);
        _expectedServerSignature = Hmac(Hmac(saltedPassword, "Server Key"u8), authMessage);
        CryptographicOperations.ZeroMemory(saltedPassword);
        return Encoding.UTF8.GetBytes($"{clientFinalWithoutProof},p={Convert.ToBase64String(proof)}");
    }

    private void VerifyServerFinal(string serverFinal)
    {
        Dictionary<char, string> fields = ParseFields(serverFinal);
        if (fields.TryGetValue('e', out string? error))
            throw new SaslException($"The server rejected the {Name} proof: {ServerText.Escape(error)}.");
        if (!fields.TryGetValue('v', out string? verifier) || !TryFromBase64(verifier, out byte[] signature)
            || !CryptographicOperations.FixedTimeEquals(signature, _expectedServerSignature))
            throw new SaslException($"The server's {Name} signature is wrong: it does not know the password (an impostor?).") { ServerNotAuthenticated = true };
        _serverVerified = true;
    }

    private int HashLength => _hash == HashAlgorithmName.SHA1 ? 20 : _hash == HashAlgorithmName.SHA256 ? 32 : 64;

    private byte[] Hmac(byte[] key, ReadOnlySpan<byte> data) => CryptographicOperations.HmacData(_hash, key, data);

    private static Dictionary<char, string> ParseFields(string message)
    {
        var fields = new Dictionary<char, string>();
        foreach (string part in message.Split(','))
        {
            if (part.Length < 2 || part[1] != '=')
                throw new SaslException($"Malformed SCRAM message from the server: \"{ServerText.Escape(message)}\".");
            fields.TryAdd(part[0], part[2..]);
        }

        return fields;
    }

    private static bool TryFromBase64(string text, out byte[] bytes)
    {
        bytes = new byte[(text.Length * 3 / 4) + 3];
        if (!Convert.TryFromBase64String(text, bytes, out int written))
            return false;
        bytes = bytes[..written];
        return true;
    }

    // RFC 5802 section 5.1: "," and "=" in a user name are written =2C and =3D.
    private static string EscapeName(string name) => name.Replace("=", "=3D", StringComparison.Ordinal).Replace(",", "=2C", StringComparison.Ordinal);
}

/// <summary>SCRAM-SHA-1 (RFC 5802).</summary>
public sealed class SaslScramSha1 : SaslScram
{
    /// <param name="userName">The user name.</param>
    /// <param name="password">The password.</param>
    public SaslScramSha1(string userName, string password) : this(userName, password, null) { }

    internal SaslScramSha1(string userName, string password, string? clientNonce)
        : base("SCRAM-SHA-1", HashAlgorithmName.SHA1, userName, password, clientNonce) { }
}

/// <summary>SCRAM-SHA-256 (RFC 7677).</summary>
public sealed class SaslScramSha256 : SaslScram
{
    /// <param name="userName">The user name.</param>
    /// <param name="password">The password.</param>
    public SaslScramSha256(string userName, string password) : this(userName, password, null) { }

    internal SaslScramSha256(string userName, string password, string? clientNonce)
        : base("SCRAM-SHA-256", HashAlgorithmName.SHA256, userName, password, clientNonce) { }
}
