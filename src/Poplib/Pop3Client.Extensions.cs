using System.Net.Security;
using Poplib.Commands;
using Poplib.Certificates;

namespace Poplib;

public sealed partial class Pop3Client
{
    /// <summary>
    /// Asks the server for its capabilities (CAPA, RFC 2449) and updates <see cref="Capabilities"/>.
    /// </summary>
    /// <exception cref="Pop3CommandException">The server does not support CAPA.</exception>
    public Pop3Capabilities Capa() => RunSync(CapaCoreAsync(async: false, CancellationToken.None));

    /// <inheritdoc cref="Capa"/>
    public Task<Pop3Capabilities> CapaAsync(CancellationToken cancellationToken = default) =>
        CapaCoreAsync(async: true, cancellationToken).AsTask();

    /// <summary>
    /// Switches the session to UTF-8 (RFC 6856, poplib's <c>utf8</c>): reply text is then decoded as
    /// UTF-8, and user names and passwords may be UTF-8. Message bodies stay raw bytes.
    /// Allowed only before authentication.
    /// </summary>
    /// <exception cref="Pop3CommandException">The server refused (most servers do not support UTF8).</exception>
    public Pop3Response Utf8() => RunSync(Utf8CoreAsync(async: false, CancellationToken.None));

    /// <inheritdoc cref="Utf8"/>
    public Task<Pop3Response> Utf8Async(CancellationToken cancellationToken = default) =>
        Utf8CoreAsync(async: true, cancellationToken).AsTask();

    /// <summary>
    /// Starts TLS on the open connection (STLS, RFC 2595; poplib's <c>stls</c>), verifying the
    /// server's certificate and host name unless <paramref name="sslOptions"/> (or
    /// <see cref="Pop3ClientOptions.SslOptions"/>) says otherwise, then reads the capabilities again.
    /// A refusal never leaves the caller on a plain connection unknowingly: it throws.
    /// </summary>
    /// <exception cref="InvalidOperationException">Already authenticated, or already encrypted.</exception>
    /// <exception cref="NotSupportedException">The server's capabilities do not include STLS.</exception>
    /// <exception cref="Pop3CommandException">The server answered <c>-ERR</c>; the connection is still plain.</exception>
    /// <exception cref="Pop3ProtocolException">The server sent bytes between its <c>+OK</c> and the handshake; the connection is closed.</exception>
    /// <exception cref="System.Security.Authentication.AuthenticationException">The handshake or certificate check failed; the connection is closed.</exception>
    public Pop3Response Stls(SslClientAuthenticationOptions? sslOptions = null) =>
        RunSync(StlsCoreAsync(sslOptions, async: false, CancellationToken.None));

    /// <inheritdoc cref="Stls"/>
    public Task<Pop3Response> StlsAsync(SslClientAuthenticationOptions? sslOptions = null, CancellationToken cancellationToken = default) =>
        StlsCoreAsync(sslOptions, async: true, cancellationToken).AsTask();

    /// <summary>LANG without argument (RFC 6856): the languages the server can reply in.</summary>
    /// <exception cref="Pop3CommandException">The server does not support LANG.</exception>
    public IReadOnlyList<Pop3Language> Lang() => RunSync(ListLanguagesCoreAsync(async: false, CancellationToken.None));

    /// <inheritdoc cref="Lang()"/>
    public Task<IReadOnlyList<Pop3Language>> LangAsync(CancellationToken cancellationToken = default) =>
        ListLanguagesCoreAsync(async: true, cancellationToken).AsTask();

    /// <summary>LANG tag (RFC 6856): the language of the server's replies from now on; <c>*</c> asks for the client's default.</summary>
    public Pop3Response Lang(string languageTag) => RunSync(SetLanguageCoreAsync(languageTag, async: false, CancellationToken.None));

    /// <inheritdoc cref="Lang(string)"/>
    public Task<Pop3Response> LangAsync(string languageTag, CancellationToken cancellationToken = default) =>
        SetLanguageCoreAsync(languageTag, async: true, cancellationToken).AsTask();

    /// <summary>
    /// The most lines a LANG reply may have, as for CAPA (<see cref="CapabilityParser.MaxLines"/>):
    /// servers offer a few dozen languages, and each line becomes two strings.
    /// </summary>
    private const int MaxLanguages = 1000;

    private async ValueTask<IReadOnlyList<Pop3Language>> ListLanguagesCoreAsync(bool async, CancellationToken cancellationToken)
    {
        using CommandScope scope = Begin("LANG");
        await _connection.ExecuteAsync(Pop3Command.Create("LANG"), async, cancellationToken).ConfigureAwait(false);
        var languages = new List<Pop3Language>();
        while (await _connection.ReadListingLineAsync(async, cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (languages.Count >= MaxLanguages)
                throw _connection.Fail($"The server sent a LANG reply of more than {MaxLanguages} lines.");
            string text = ReplyParser.Decode(line.Span, IsUtf8).Trim();
            int space = text.IndexOf(' ', StringComparison.Ordinal);
            languages.Add(space < 0 ? new Pop3Language(text, "") : new Pop3Language(text[..space], text[(space + 1)..].TrimStart()));
        }

        return languages;
    }

    private async ValueTask<Pop3Response> SetLanguageCoreAsync(string languageTag, bool async, CancellationToken cancellationToken)
    {
        Pop3Command.ValidateArgument(languageTag, nameof(languageTag));
        if (languageTag.Contains(' ', StringComparison.Ordinal))
            throw new ArgumentException("A language tag cannot contain spaces.", nameof(languageTag));
        using CommandScope scope = Begin("LANG");
        return await _connection.ExecuteAsync(Pop3Command.Create("LANG", languageTag), async, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<Pop3Capabilities> CapaCoreAsync(bool async, CancellationToken cancellationToken)
    {
        using CommandScope scope = Begin("CAPA");
        await _connection.ExecuteAsync(Pop3Command.Create("CAPA"), async, cancellationToken).ConfigureAwait(false);
        return await ReadCapabilityLinesAsync(async, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads CAPA as part of another step (connect, STLS, login); a server without CAPA is not an error here.</summary>
    private async ValueTask ReadCapabilitiesAsync(bool async, CancellationToken cancellationToken)
    {
        await _connection.SendAsync(Pop3Command.Create("CAPA"), async, cancellationToken).ConfigureAwait(false);
        Pop3Response response = await _connection.ReadResponseAsync(async, cancellationToken).ConfigureAwait(false);
        if (response.IsOk)
            await ReadCapabilityLinesAsync(async, cancellationToken).ConfigureAwait(false);
        else
            Capabilities = Pop3Capabilities.None;
    }

    private async ValueTask<Pop3Capabilities> ReadCapabilityLinesAsync(bool async, CancellationToken cancellationToken)
    {
        var entries = CapabilityParser.NewEntries();
        int lines = 0;
        while (await _connection.ReadListingLineAsync(async, cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (++lines > CapabilityParser.MaxLines)
                throw _connection.Fail($"The server sent a CAPA reply of more than {CapabilityParser.MaxLines} lines.");

            CapabilityParser.AddLine(entries, ReplyParser.Decode(line.Span, utf8Mode: false));
        }

        return Capabilities = CapabilityParser.Create(entries);
    }

    private async ValueTask<Pop3Response> Utf8CoreAsync(bool async, CancellationToken cancellationToken)
    {
        using CommandScope scope = Begin("UTF8", Pop3SessionState.Authorization);
        Pop3Response response = await _connection.ExecuteAsync(Pop3Command.Create("UTF8"), async, cancellationToken).ConfigureAwait(false);
        _connection.Utf8Mode = true;
        return response;
    }

    private async ValueTask<Pop3Response> StlsCoreAsync(SslClientAuthenticationOptions? sslOptions, bool async, CancellationToken cancellationToken)
    {
        using CommandScope scope = Begin("STLS", Pop3SessionState.Authorization);
        if (_connection.IsEncrypted)
            throw new InvalidOperationException("The connection is already encrypted; STLS is not allowed on it.");
        if (!Capabilities.Stls)
        {
            throw new NotSupportedException(
                Capabilities.IsSupported ? "The server does not advertise STLS in its capabilities."
                : _options.QueryCapabilities ? "The server does not support CAPA, so it cannot advertise STLS (RFC 2595 requires it to)."
                : "The capabilities were not read (Pop3ClientOptions.QueryCapabilities is off): call Capa() before Stls().");
        }

        // Settings that contradict each other are refused before the server is told to expect a handshake.
        CertificateValidation validation = CertificateCheck(sslOptions ?? _options.SslOptions);
        Pop3Response response = await _connection.ExecuteAsync(Pop3Command.Create("STLS"), async, cancellationToken).ConfigureAwait(false);
        await _connection.StartTlsAsync(validation, async, cancellationToken).ConfigureAwait(false);
        _connection.Transcript.Note($"TLS started ({SslProtocol})");

        // What the server said before TLS may have been forged by an attacker in the path; only
        // what it says over TLS counts (RFC 2595 section 4).
        Capabilities = Pop3Capabilities.None;
        if (_options.QueryCapabilities)
            await ReadCapabilitiesAsync(async, cancellationToken).ConfigureAwait(false);
        return response;
    }
}
