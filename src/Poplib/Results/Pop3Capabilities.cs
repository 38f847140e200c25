using System.Collections;
using System.Globalization;

namespace Poplib;

/// <summary>
/// The server's CAPA reply (RFC 2449): poplib's <c>{name: [params]}</c> shape (names are
/// case-insensitive) plus a typed view of the capabilities this library knows.
/// </summary>
public sealed class Pop3Capabilities : IReadOnlyDictionary<string, IReadOnlyList<string>>
{
    private readonly Dictionary<string, IReadOnlyList<string>> _entries;

    /// <summary>Capabilities of a server that does not support CAPA (or that was not asked).</summary>
    public static Pop3Capabilities None { get; } = new(new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase), isSupported: false);

    internal Pop3Capabilities(Dictionary<string, IReadOnlyList<string>> entries, bool isSupported)
    {
        _entries = entries;
        IsSupported = isSupported;
    }

    /// <summary><see langword="true"/> when the server answered CAPA with <c>+OK</c>.</summary>
    public bool IsSupported { get; }

    /// <summary>TOP is supported.</summary>
    public bool Top => Has("TOP");

    /// <summary>UIDL is supported.</summary>
    public bool Uidl => Has("UIDL");

    /// <summary>USER/PASS login is offered.</summary>
    public bool User => Has("USER");

    /// <summary>The server accepts several commands before it answers the first (RFC 2449 PIPELINING).</summary>
    public bool Pipelining => Has("PIPELINING");

    /// <summary>STLS (STARTTLS, RFC 2595) is offered.</summary>
    public bool Stls => Has("STLS");

    /// <summary>The UTF8 command (RFC 6856) is offered.</summary>
    public bool Utf8 => Has("UTF8");

    /// <summary>The server accepts UTF-8 user names and passwords with USER/PASS after UTF8 (<c>UTF8 USER</c>).</summary>
    public bool Utf8User => HasParameter("UTF8", "USER");

    /// <summary>The LANG command (RFC 6856) is offered.</summary>
    public bool Lang => Has("LANG");

    /// <summary>Replies may carry RFC 2449 response codes (<c>RESP-CODES</c>).</summary>
    public bool ResponseCodes => Has("RESP-CODES");

    /// <summary>The server uses the <c>[AUTH]</c> response code of RFC 3206 (<c>AUTH-RESP-CODE</c>).</summary>
    public bool AuthResponseCode => Has("AUTH-RESP-CODE");

    /// <summary>The SASL mechanisms the server offers for AUTH (RFC 5034), upper-cased; empty if none.</summary>
    public IReadOnlyList<string> SaslMechanisms =>
        _entries.TryGetValue("SASL", out var mechanisms)
            ? mechanisms.Select(static m => m.ToUpperInvariant()).ToArray()
            : [];

    /// <summary>The server's message retention policy (<c>EXPIRE</c>), or <see langword="null"/> if not advertised.</summary>
    public Pop3ExpirePolicy? Expire
    {
        get
        {
            // Quirk (GNU mailutils pop3d): "EXPIRENEVER" with no space means "EXPIRE NEVER".
            if (Has("EXPIRENEVER"))
                return new Pop3ExpirePolicy(Never: true, Days: 0, PerUser: false);
            if (!_entries.TryGetValue("EXPIRE", out var args) || args.Count == 0)
                return null;
            bool perUser = args.Count > 1 && string.Equals(args[1], "USER", StringComparison.OrdinalIgnoreCase);
            if (string.Equals(args[0], "NEVER", StringComparison.OrdinalIgnoreCase))
                return new Pop3ExpirePolicy(Never: true, Days: 0, PerUser: perUser);
            return int.TryParse(args[0], NumberStyles.None, CultureInfo.InvariantCulture, out int days)
                ? new Pop3ExpirePolicy(Never: false, Days: days, PerUser: perUser)
                : null;
        }
    }

    /// <summary>The minimum time between logins (<c>LOGIN-DELAY</c>), or <see langword="null"/> if not advertised.</summary>
    public TimeSpan? LoginDelay =>
        _entries.TryGetValue("LOGIN-DELAY", out var args) && args.Count > 0
        && int.TryParse(args[0], NumberStyles.None, CultureInfo.InvariantCulture, out int seconds)
            ? TimeSpan.FromSeconds(seconds)
            : null;

    /// <summary>The server's self-description (<c>IMPLEMENTATION</c>), or <see langword="null"/>.</summary>
    public string? Implementation =>
        _entries.TryGetValue("IMPLEMENTATION", out var args) && args.Count > 0 ? string.Join(' ', args) : null;

    /// <summary>Whether the capability <paramref name="name"/> was advertised (case-insensitive).</summary>
    public bool Has(string name) => _entries.ContainsKey(name);

    /// <summary>Whether <paramref name="name"/> was advertised with the parameter <paramref name="parameter"/>.</summary>
    public bool HasParameter(string name, string parameter) =>
        _entries.TryGetValue(name, out var args)
        && args.Any(a => string.Equals(a, parameter, StringComparison.OrdinalIgnoreCase));

    /// <inheritdoc/>
    public IReadOnlyList<string> this[string key] => _entries[key];

    /// <inheritdoc/>
    public IEnumerable<string> Keys => _entries.Keys;

    /// <inheritdoc/>
    public IEnumerable<IReadOnlyList<string>> Values => _entries.Values;

    /// <inheritdoc/>
    public int Count => _entries.Count;

    /// <inheritdoc/>
    public bool ContainsKey(string key) => _entries.ContainsKey(key);

    /// <inheritdoc/>
    public bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out IReadOnlyList<string> value) =>
        _entries.TryGetValue(key, out value);

    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<string, IReadOnlyList<string>>> GetEnumerator() => _entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc/>
    public override string ToString() =>
        string.Join(", ", _entries.Select(static e => e.Value.Count == 0 ? e.Key : e.Key + " " + string.Join(' ', e.Value)));
}

/// <summary>The EXPIRE capability: how long the server keeps messages after they were retrieved.</summary>
/// <param name="Never">Messages are never expired.</param>
/// <param name="Days">Days a retrieved message is kept (0: deleted at QUIT even without DELE).</param>
/// <param name="PerUser">The value before login may change per user (<c>USER</c>).</param>
public readonly record struct Pop3ExpirePolicy(bool Never, int Days, bool PerUser);
