namespace Poplib.Fetch;

/// <summary>
/// How the state knows a message of a mailbox: by its UIDL (RFC 1939), or — where the server has no
/// UIDL, or gives one UIDL to several messages — by a fingerprint of its header's identity and size,
/// read with TOP. Two keys are equal when they name the same message (their <see cref="Value"/>).
/// </summary>
public readonly struct MessageKey : IEquatable<MessageKey>
{
    private const string FingerprintPrefix = "fp:";

    private MessageKey(string value, string? uidl, string? fingerprint)
    {
        Value = value;
        Uidl = uidl;
        Fingerprint = fingerprint;
    }

    /// <summary>The key as stored: the UIDL, <c>fp:…</c>, or <c>UIDL/fp:…</c> for one of several messages sharing a UIDL.</summary>
    public string Value { get; }

    /// <summary>The server's UIDL, when the key has one.</summary>
    public string? Uidl { get; }

    /// <summary>The fingerprint (<c>fp:digest:size</c>), when the message is told apart by one.</summary>
    public string? Fingerprint { get; }

    /// <summary>Whether the message is known (also) by a fingerprint rather than by its UIDL alone.</summary>
    public bool HasFingerprint => Fingerprint is not null;

    /// <summary>Whether the key comes from the server's UIDL (alone or with a fingerprint).</summary>
    public bool HasUidl => Uidl is not null;

    /// <summary>A message known by its UIDL.</summary>
    public static MessageKey FromUidl(string uidl)
    {
        ArgumentException.ThrowIfNullOrEmpty(uidl);
        return new MessageKey(uidl, uidl, null);
    }

    /// <summary>A message of a server without UIDL, known by its fingerprint (<c>fp:…</c>).</summary>
    internal static MessageKey FromFingerprint(string fingerprint) => new(fingerprint, null, fingerprint);

    /// <summary>One of several messages sharing <paramref name="uidl"/>, told apart by its fingerprint.</summary>
    internal static MessageKey FromUidlAndFingerprint(string uidl, string fingerprint) => new(uidl + "/" + fingerprint, uidl, fingerprint);

    /// <summary>A key as a state store holds it (<see cref="Value"/>).</summary>
    public static MessageKey Parse(string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(value);
        if (value.StartsWith(FingerprintPrefix, StringComparison.Ordinal))
            return FromFingerprint(value);
        int slash = value.LastIndexOf("/" + FingerprintPrefix, StringComparison.Ordinal);
        return slash > 0 ? new MessageKey(value, value[..slash], value[(slash + 1)..]) : FromUidl(value);
    }

    /// <inheritdoc/>
    public bool Equals(MessageKey other) => string.Equals(Value, other.Value, StringComparison.Ordinal);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is MessageKey other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => Value is null ? 0 : StringComparer.Ordinal.GetHashCode(Value);

    /// <summary>The key as stored.</summary>
    public override string ToString() => Value ?? "";

    /// <summary>Whether two keys name the same message.</summary>
    public static bool operator ==(MessageKey left, MessageKey right) => left.Equals(right);

    /// <summary>Whether two keys name different messages.</summary>
    public static bool operator !=(MessageKey left, MessageKey right) => !left.Equals(right);
}

/// <summary>
/// A mailbox's identity in the state: the login and server (host name in lower case) and port — not
/// the account's display name, so renaming an account loses nothing. Stored as <c>user@host:port</c>.
/// </summary>
public readonly record struct AccountKey
{
    /// <summary>Creates a key; the host name is kept in lower case.</summary>
    public AccountKey(string user, string host, int port)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentException.ThrowIfNullOrEmpty(host);
        User = user;
        Host = host.ToLowerInvariant();
        Port = port;
    }

    /// <summary>The login name.</summary>
    public string User { get; }

    /// <summary>The server's host name, in lower case.</summary>
    public string Host { get; }

    /// <summary>The server's port.</summary>
    public int Port { get; }

    /// <summary>The key as stored: <c>user@host:port</c>.</summary>
    public override string ToString() => $"{User}@{Host}:{Port.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
}
