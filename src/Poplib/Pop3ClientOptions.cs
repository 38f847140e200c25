using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace Poplib;

/// <summary>
/// How a <see cref="Pop3Client"/> connects and what it tolerates. The client copies what it needs
/// when it connects, so one instance can be shared between connections.
/// </summary>
public sealed class Pop3ClientOptions
{
    /// <summary>The default port of POP3 (RFC 1939).</summary>
    public const int DefaultPort = 110;

    /// <summary>The default port of POP3 over implicit TLS (RFC 8314).</summary>
    public const int DefaultSslPort = 995;

    /// <summary>
    /// How long connecting, the TLS handshake and each single read or write may take before the
    /// client gives up with a <see cref="TimeoutException"/> and closes the connection (poplib's
    /// <c>timeout</c>). Default 60 seconds; must be positive.
    /// </summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long one command may wait for the server in all, from sending it to the end of its reply
    /// (status line, listing or message), before the client gives up with a
    /// <see cref="TimeoutException"/> and closes the connection: <see cref="Timeout"/> bounds each
    /// read, this bounds their sum, so a server that sends a byte just inside each timeout cannot hold
    /// a command for ever. Only waiting counts, not the caller's own time between reads of a streamed
    /// message. Each message of a pipelined batch has its own; connecting, the TLS handshake and the
    /// greeting share one. Default 10 minutes: a 60 MB message needs 100 KB/s.
    /// <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> turns it off.
    /// </summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// TLS settings for <see cref="Pop3Client.ConnectSsl(string, int, Pop3ClientOptions?)"/> and
    /// <see cref="Pop3Client.Stls(SslClientAuthenticationOptions?)"/> (poplib's <c>ssl.SSLContext</c>):
    /// client certificates, protocols, a custom validation callback. When <see langword="null"/> or
    /// when its <c>TargetHost</c> is empty, the host name given to Connect is used for SNI and for the
    /// certificate's name check. Certificates are verified by default.
    /// </summary>
    public SslClientAuthenticationOptions? SslOptions { get; set; }

    /// <summary>
    /// Certificates trusted as roots besides the system's: a self-signed server's own certificate, or
    /// the CA of a company, a NAS or a lab (load a PEM or DER file with <see cref="CertificateFile.Load"/>).
    /// Nothing else is relaxed: the chain is still built and checked by the platform (validity dates,
    /// signatures, the server-authentication purpose; <see cref="X509ChainTrustMode.CustomRootTrust"/>
    /// with these as the roots when the system's roots do not vouch for the server), and the host name
    /// must still match. Cannot be combined with a <see cref="SslClientAuthenticationOptions.RemoteCertificateValidationCallback"/>
    /// or <see cref="SslClientAuthenticationOptions.CertificateChainPolicy"/> in <see cref="SslOptions"/>
    /// (<see cref="ArgumentException"/> at connect): either of those decides trust by itself. A refused
    /// certificate is a <see cref="Pop3CertificateException"/> that says what the server presented.
    /// </summary>
    public X509Certificate2Collection TrustedCertificates { get; set; } = [];

    /// <summary>
    /// Fingerprints the server's certificate must match, at least one of them, checked <em>in addition</em>
    /// to the chain and the host name, never instead (as curl's <c>--pinnedpubkey</c>): a pin narrows
    /// trust, it never widens it. Pin a self-signed server by trusting its certificate
    /// (<see cref="TrustedCertificates"/>) and pinning it. A <see cref="CertificatePinKind.PublicKey"/> pin
    /// survives a renewed certificate with the same key; a <see cref="CertificatePinKind.Certificate"/> pin does
    /// not. A mismatch is a <see cref="Pop3CertificateException"/> (<see cref="Pop3CertificateFailure.PinMismatch"/>)
    /// naming the pins and both fingerprints the server presented. Empty (the default): no pinning.
    /// With a <see cref="SslClientAuthenticationOptions.RemoteCertificateValidationCallback"/> of yours,
    /// the pins are checked after it accepts.
    /// </summary>
    public IList<CertificatePin> PinnedCertificates { get; set; } = [];

    /// <summary>
    /// A proxy to connect through: <see cref="Socks5Proxy"/>, <see cref="Socks4aProxy"/>,
    /// <see cref="HttpConnectProxy"/>, or <see cref="Pop3Proxy.FromUri"/>(<c>new Uri("socks5://user:pass@host:1080")</c>).
    /// The proxy resolves the server's name; its handshake counts as connecting (bounded by
    /// <see cref="Timeout"/>); TLS runs end to end through it. Its failures are <see cref="Pop3ProxyException"/>.
    /// Default <see langword="null"/>: connect directly. Only for <c>Connect(host, port)</c> and <c>ConnectSsl(host, port)</c>.
    /// </summary>
    public Pop3Proxy? Proxy { get; set; }

    /// <summary>
    /// Allow logging in over a connection that is not encrypted. Off by default: PASS, APOP and every
    /// SASL mechanism that uses a secret (<see cref="Sasl.ISaslMechanism.UsesSecret"/>: all the built-in
    /// ones) are refused with <see cref="Pop3AuthenticationException"/>
    /// (<see cref="Pop3AuthenticationFailure.InsecureConnection"/>) before anything is sent, because an
    /// eavesdropper would see the password (PASS, PLAIN, LOGIN, OAuth tokens) or what to crack it from
    /// offline (APOP, CRAM-MD5, SCRAM). RFC 8314: use TLS. Opted in, <see cref="Pop3Client.Login(string, string)"/>
    /// still prefers the methods that do not reveal the password.
    /// </summary>
    public bool AllowInsecureAuthentication { get; set; }

    /// <summary>
    /// Ask for the server's capabilities (CAPA) right after the greeting, after STLS and after login,
    /// so that <see cref="Pop3Client.Capabilities"/> is always current. Default on.
    /// </summary>
    public bool QueryCapabilities { get; set; } = true;

    /// <summary>
    /// The debug level the client starts with (poplib's <c>set_debuglevel</c>): 0 silent, 1 one line
    /// per command and reply, 2 every line sent and received. Secrets are always masked.
    /// </summary>
    public int DebugLevel { get; set; }

    /// <summary>Where debug output goes when <see cref="DebugLevel"/> is above 0. Default: standard error.</summary>
    public TextWriter? DebugWriter { get; set; }

    /// <summary>
    /// A logger for connection events and the protocol transcript (commands at Debug, received lines
    /// at Trace), independent of <see cref="DebugLevel"/>. Secrets are always masked.
    /// </summary>
    public ILogger? Logger { get; set; }

    /// <summary>
    /// The longest status line or listing line (LIST, UIDL, CAPA) accepted, in octets without the
    /// line ending. Default 8192 (RFC 2449 allows 512; poplib stops at 2048). Message bodies are not
    /// bound by it: their lines may be of any length.
    /// </summary>
    public int MaxLineLength { get; set; } = 8192;

    /// <summary>The most entries a LIST or UIDL reply may have. Default 10,000,000. (CAPA and LANG replies stop at 1,000 lines.)</summary>
    public int MaxListEntries { get; set; } = 10_000_000;

    /// <summary>
    /// The most octets, line endings included, of one multi-line LIST, UIDL, LANG or CAPA reply.
    /// Default 128 MiB: a UIDL of a million messages with the 70-character UIDs RFC 1939 allows is
    /// 79 MB on the wire and in memory (36 MB for LIST and UIDL with 16-character UIDs), while a LIST
    /// that never ends stops after holding 116 MB. At most 1 GiB.
    /// </summary>
    public long MaxListingOctets { get; set; } = 128L * 1024 * 1024;

    /// <summary>
    /// The largest message that <see cref="Pop3Client.Retr(int)"/> and <see cref="Pop3Client.Top(int, int)"/>
    /// will hold in memory, in octets. Default 64 MiB. The buffer never grows past it, so a larger
    /// message costs at most a buffer of this size before the client gives up. The streaming forms
    /// (<c>RetrTo</c>, <c>OpenRetr</c>, <c>TopTo</c>, <c>OpenTop</c>) have no such limit.
    /// </summary>
    public long MaxInMemoryMessageSize { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// How much of a message a TOP reply may carry past the header and the lines asked for. TOP never
    /// gives more than was asked: the rest is read and dropped, and <c>ExcessDiscarded</c> says so
    /// (GNU mailutils sends one empty line too many, some servers the whole message). Past this many
    /// octets the client stops reading and closes the connection with
    /// <see cref="Pop3LimitExceededException"/> rather than drain an endless reply. Default 64 MiB
    /// (the default <see cref="MaxInMemoryMessageSize"/>); 0 refuses any excess.
    /// </summary>
    public long MaxTopExcessOctets { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// The most commands a pipelined batch (<see cref="Pop3Client.RetrMany(IEnumerable{int})"/> and
    /// kin) keeps in flight when the server advertises PIPELINING (RFC 2449). Default 1,024; 1 means
    /// lockstep. Servers without PIPELINING always get lockstep. Replies are streamed, never
    /// buffered, so a larger window costs the client no memory: its only price is the replies a
    /// caller who stops early has to drain (bounded by <see cref="PipelineMaxBytes"/> when sizes are
    /// known). The commands themselves stay small (≈ 12 KB for 1,024), so they fit in the socket
    /// buffers and writing them can never block on a server that is busy answering. Measured at
    /// 20 ms round trip: 64 → 34×, 256 → 49.5×, 1,024 → 55× Python poplib (benchmarks/run --latency).
    /// </summary>
    public int PipelineWindow { get; set; } = 1024;

    /// <summary>
    /// When message sizes are known (batches over <see cref="Pop3ListEntry"/> values), the most
    /// message octets in flight at once; at least one command is always sent. Default 8 MiB.
    /// </summary>
    public long PipelineMaxBytes { get; set; } = 8L * 1024 * 1024;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(PipelineWindow, 1);
        // Commands are small, but a window far beyond a socket buffer's worth risks both sides writing at once.
        ArgumentOutOfRangeException.ThrowIfGreaterThan(PipelineWindow, 4096);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(PipelineMaxBytes);
        if (Timeout <= TimeSpan.Zero || Timeout.TotalMilliseconds > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(Timeout), Timeout, "The timeout must be positive and at most int.MaxValue milliseconds.");
        if (CommandTimeout <= TimeSpan.Zero && CommandTimeout != System.Threading.Timeout.InfiniteTimeSpan)
            throw new ArgumentOutOfRangeException(nameof(CommandTimeout), CommandTimeout, "The command timeout must be positive, or Timeout.InfiniteTimeSpan.");
        if (MaxLineLength < 512)
            throw new ArgumentOutOfRangeException(nameof(MaxLineLength), MaxLineLength, "RFC 2449 allows status lines of 512 octets; the limit cannot be lower.");
        if (MaxLineLength > 16 * 1024 * 1024)
            throw new ArgumentOutOfRangeException(nameof(MaxLineLength), MaxLineLength, "At most 16 MiB.");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxListEntries);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxListingOctets);
        // The stored UIDs of one listing are addressed by int offsets.
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxListingOctets, 1L << 30);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxInMemoryMessageSize);
        ArgumentOutOfRangeException.ThrowIfNegative(MaxTopExcessOctets);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxInMemoryMessageSize, Array.MaxLength);
        ArgumentNullException.ThrowIfNull(TrustedCertificates);
        ArgumentNullException.ThrowIfNull(PinnedCertificates);
        if (PinnedCertificates.Any(p => p is null))
            throw new ArgumentException("A pinned certificate cannot be null.", nameof(PinnedCertificates));
        if (DebugLevel < 0)
            throw new ArgumentOutOfRangeException(nameof(DebugLevel), DebugLevel, "The debug level cannot be negative.");
    }

    // The collections are copied too: a caller who changes them after connecting changes no connection.
    internal Pop3ClientOptions Clone()
    {
        var clone = (Pop3ClientOptions)MemberwiseClone();
        clone.TrustedCertificates = TrustedCertificates is null ? null! : [.. TrustedCertificates];
        clone.PinnedCertificates = PinnedCertificates is null ? null! : [.. PinnedCertificates];
        return clone;
    }
}
