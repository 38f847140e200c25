using System.Net.Security;
using Poplib.Sasl;

namespace Poplib.Fuzz;

/// <summary>The scenarios: what the client does with the server's bytes, and what it must return.</summary>
internal sealed partial class Session
{
    /// <summary>SCRAM's client nonce in every run, so that a transcript's server-first message can extend it.</summary>
    public const string ScramNonce = "fyko+d2lbbFgONRv9qkxdawL";

    private const string User = Outputs.User;
    private const string Password = Outputs.Password;

    private void RunScenario()
    {
        switch (_input.Scenario)
        {
            case Scenario.Capabilities:
                Capabilities();
                break;
            case Scenario.Login:
                Login();
                break;
            case Scenario.Apop:
                Apop();
                break;
            case Scenario.Sasl:
                Sasl();
                break;
            case Scenario.OAuth:
                OAuth();
                break;
            case Scenario.RetrInMemory:
                RetrInMemory();
                break;
            case Scenario.RetrStreamed:
                RetrStreamed();
                break;
            case Scenario.Top:
                Top();
                break;
            case Scenario.Batch:
                Batch();
                break;
            case Scenario.Stls:
                Stls();
                break;
            case Scenario.Listings:
                Listings();
                break;
            default:
                Misc();
                break;
        }
    }

    private int MessageNumber => (_input.First % 8) + 1;

    private int ReadSize => (_input.Second % 16) + 1;

    // CAPA, UTF8 and LANG before login; every capability property read.
    private void Capabilities()
    {
        Inspect(Client.Capabilities);
        if ((_input.Variant & 1) != 0 && Try("CAPA", Client.Capa, () => Client.CapaAsync(), Allowed.None, out Pop3Capabilities? capabilities))
        {
            Expect(Reference.IsOk(_reference.Reply(multiLine: true)) || _reference.Lost, "Capa() returned for a -ERR.");
            Inspect(capabilities!);
        }

        if ((_input.Variant & 2) != 0 && Authorized)
            Utf8();
        Languages();
        Quit();
    }

    // UTF8's own reply is read before UTF-8 mode is on: only its status is compared.
    private void Utf8()
    {
        if (!Try("UTF8", Client.Utf8, () => Client.Utf8Async(), Allowed.None, out _))
            return;
        Agree("UTF8", null);
        Expect(Client.IsUtf8, "UTF8's +OK did not turn UTF-8 mode on.");
    }

    private void Languages()
    {
        if (_client is not { IsConnected: true })
            return;
        if (Try("LANG", Client.Lang, () => Client.LangAsync(), Allowed.None, out IReadOnlyList<Pop3Language>? languages))
        {
            _reference.Reply(multiLine: true, out int lines);
            Expect(_reference.Lost || languages!.Count == lines, $"LANG listed {languages!.Count} languages for {lines} lines.");
        }

        if (_client is { IsConnected: true })
            Reply("LANG tag", () => Client.Lang("de"), () => Client.LangAsync("de"), Allowed.None, out _);
    }

    private static void Inspect(Pop3Capabilities capabilities)
    {
        _ = (capabilities.Top, capabilities.Uidl, capabilities.User, capabilities.Pipelining, capabilities.Stls, capabilities.Utf8,
            capabilities.Utf8User, capabilities.Lang, capabilities.ResponseCodes, capabilities.AuthResponseCode, capabilities.Expire,
            capabilities.LoginDelay, capabilities.Implementation, capabilities.ToString());
        foreach (string mechanism in capabilities.SaslMechanisms)
            Expect(mechanism.Length > 0 && !mechanism.Any(IsSeparator), $"SASL mechanism \"{mechanism}\" is empty or has a space or tab.");
        foreach ((string name, IReadOnlyList<string> parameters) in capabilities)
        {
            Expect(name.Length > 0 && capabilities.Has(name) && !name.Any(IsSeparator), $"Capability \"{name}\" is empty, has a space or tab, or is not found.");
            Expect(parameters.All(p => p.Length > 0 && !p.Any(IsSeparator)), $"Capability \"{name}\" has an empty parameter or one with a space or tab.");
        }
    }

    // What separates a CAPA line's words (RFC 2449); other controls are the server's text, kept as sent.
    private static bool IsSeparator(char c) => c is ' ' or '\t';

    // Login(user, password): the method the client picks from CAPA and the greeting.
    private void Login()
    {
        _reference.Lose(); // the exchange depends on the method chosen: not followed
        if (Try("LOGIN", () => Client.Login(User, Password), () => Client.LoginAsync(User, Password), Allowed.Authentication | Allowed.NotSupported, out _))
            Expect(InTransaction && Client.AuthenticationMethod is not null, "Login returned without authenticating.");
        _reference.Lose();
        Mailbox();
        Quit();
    }

    private void Apop()
    {
        bool ok = Reply("APOP", () => Client.Apop(User, Password), () => Client.ApopAsync(User, Password), Allowed.Authentication | Allowed.NotSupported, out _);
        if (ok)
            AfterLogin();
        // NotSupportedException exactly when the greeting has no usable timestamp (nothing sent then).
        Expect((_lastError is NotSupportedException) == (!ok && Client.ApopTimestamp is null), "APOP's NotSupportedException does not match the greeting's timestamp.");
        if (InTransaction)
            Reply("NOOP", Client.Noop, () => Client.NoopAsync(), Allowed.None, out _);
        Quit();
    }

    private void Sasl()
    {
        // Variant 1: an initial response too long for the AUTH line, sent after the server's "+".
        string user = _input.Variant == 1 ? Outputs.LongUser : User;
        ISaslMechanism mechanism = (_input.First % 7) switch
        {
            0 => new SaslPlain(user, Password),
            1 => new SaslLogin(User, Password),
            2 => new SaslCramMd5(User, Password),
            3 => new SaslScramSha1(User, Password, ScramNonce),
            4 => new SaslScramSha256(User, Password, ScramNonce),
            5 => new SaslXOAuth2(user, Outputs.Token),
            _ => new SaslOAuthBearer(user, Outputs.Token, "127.0.0.1", _port),
        };
        _reference.Lose();
        if (Try("AUTH", () => Client.Auth(mechanism), () => Client.AuthAsync(mechanism), Allowed.Authentication, out _))
            Expect(InTransaction && Client.AuthenticationMethod == "AUTH " + mechanism.Name, "AUTH returned without authenticating.");
        _reference.Lose();
        Mailbox();
        Quit();
    }

    private void OAuth()
    {
        var token = new OAuth2AccessToken(Outputs.Token);
        _reference.Lose();
        if (Try("LOGIN oauth", () => Client.Login(User, token), () => Client.LoginAsync(User, token), Allowed.Authentication | Allowed.NotSupported, out _))
            Expect(InTransaction, "Login with a token returned without authenticating.");
        _reference.Lose();
        Mailbox();
        Quit();
    }

    // STAT, LIST and UIDL after a login the reference could not follow.
    private void Mailbox()
    {
        if (!InTransaction)
            return;
        Try("STAT", Client.Stat, () => Client.StatAsync(), Allowed.None, out _);
        if (InTransaction && Try("LIST", Client.List, () => Client.ListAsync(), Allowed.None, out IReadOnlyList<Pop3ListEntry>? list))
            CheckNumbers(list!.Select(e => e.Number), null);
    }

    /// <summary>USER and PASS, as the reference can follow them; true when the session is authenticated.</summary>
    private bool LogIn()
    {
        if (!Authorized)
            return false;
        if (!Reply("USER", () => Client.User(User), () => Client.UserAsync(User), Allowed.None, out _))
            return false;
        if (!Reply("PASS", () => Client.Pass(Password), () => Client.PassAsync(Password), Allowed.Authentication, out _))
            return false;
        AfterLogin();
        return InTransaction;
    }

    // After a login the client reads CAPA again when it has capabilities to refresh.
    private void AfterLogin()
    {
        Expect(InTransaction, "A login's +OK left the session unauthenticated.");
        if (_input.QueryCapabilities && _capabilitiesSupported)
        {
            _capabilitiesSupported = Reference.IsOk(_reference.Reply(multiLine: true));
            Expect(_reference.Lost || Client.Capabilities.IsSupported == _capabilitiesSupported, "Capabilities after login do not follow CAPA's answer.");
        }
    }

    private void Stls()
    {
        var tls = new SslClientAuthenticationOptions
        {
            TargetHost = "pop.example.org",
            RemoteCertificateValidationCallback = (_, _, _, _) => false,
        };
        if (Try("STLS", () => Client.Stls(tls), () => Client.StlsAsync(tls), Allowed.NotSupported, out _))
            throw new InvariantException("STLS succeeded against a server that cannot speak TLS.");
        if (Authorized && Client.IsConnected)
            Expect(!Client.IsEncrypted, "A refused STLS left the connection encrypted.");
        if (Authorized && Client.IsConnected && !_input.AllowInsecure)
        {
            Expect(!Try("LOGIN", () => Client.Login(User, Password), () => Client.LoginAsync(User, Password), Allowed.Authentication, out _),
                "Login succeeded on a plain connection without AllowInsecureAuthentication.");
        }

        Quit();
    }

    private void Listings()
    {
        if (!LogIn())
        {
            Quit();
            return;
        }

        int? highest = null;
        Reference before = _reference.Fork();
        if (Try("STAT", Client.Stat, () => Client.StatAsync(), Allowed.None, out Pop3MailboxStatus status))
        {
            Agree("STAT", null);
            Expect(status.Count >= 0 && status.Size >= 0, "STAT returned a negative count or size.");
            highest = status.Count;
        }
        else
        {
            Refused("STAT", before, r => StrictStatus(r.Line(), null, uidl: false));
        }

        before = _reference.Fork();
        if (InTransaction && Try("LIST", Client.List, () => Client.ListAsync(), Allowed.None, out IReadOnlyList<Pop3ListEntry>? list))
        {
            Listed("LIST", list!.Count);
            CheckNumbers(list.Select(e => e.Number), highest);
            Expect(list.All(e => e.Size >= 0), "LIST returned a negative size.");
        }
        else
        {
            Refused("LIST", before, r => StrictListing(r, uidl: false, highest));
        }

        before = _reference.Fork();
        if (InTransaction && Try("UIDL", Client.Uidl, () => Client.UidlAsync(), Allowed.None, out IReadOnlyList<Pop3UidlEntry>? uidl))
        {
            Listed("UIDL", uidl!.Count);
            CheckNumbers(uidl.Select(e => e.Number), highest);
            foreach (Pop3UidlEntry entry in uidl)
                Expect(entry.Uid.Length > 0 && entry.Uid.All(c => c is >= '\x21' and <= '\x7E'), $"UIDL returned the unique-id \"{entry.Uid}\" outside 0x21–0x7E.");
        }
        else
        {
            Refused("UIDL", before, r => StrictListing(r, uidl: true, highest));
        }

        int n = MessageNumber;
        before = _reference.Fork();
        if (InTransaction && Try("LIST n", () => Client.List(n), () => Client.ListAsync(n), Allowed.None, out Pop3ListEntry one))
        {
            Agree("LIST n", null);
            Expect(one.Number == n && one.Size >= 0, "LIST n answered for another message or a negative size.");
        }
        else
        {
            Refused("LIST n", before, r => StrictStatus(r.Line(), n, uidl: false));
        }

        before = _reference.Fork();
        if (InTransaction && Try("UIDL n", () => Client.Uidl(n), () => Client.UidlAsync(n), Allowed.None, out Pop3UidlEntry uid))
        {
            Agree("UIDL n", null);
            Expect(uid.Number == n && uid.Uid.Length > 0 && uid.Uid.All(c => c is >= '\x21' and <= '\x7E'), "UIDL n answered for another message or with an invalid unique-id.");
        }
        else
        {
            Refused("UIDL n", before, r => StrictStatus(r.Line(), n, uidl: true));
        }

        if (InTransaction)
            Reply("DELE", () => Client.Dele(n), () => Client.DeleAsync(n), Allowed.None, out _);
        if (InTransaction)
            Reply("RSET", Client.Rset, () => Client.RsetAsync(), Allowed.None, out _);
        Quit();
    }

    /// <summary>
    /// After a call failed with a protocol error that closed the connection: the reply, read by the
    /// reference from where the call began, must not be one RFC 1939 calls well-formed (limits aside).
    /// </summary>
    private void Refused(string what, Reference before, Func<Reference, bool> wellFormed)
    {
        if (_lastError is Pop3ProtocolException and not Pop3LimitExceededException && _closedBy == _lastError && !before.Lost && !_input.TightLimits)
            Expect(!wellFormed(before), $"{what} was refused ({_lastError.Message}) although the server's reply was well-formed.", _lastError);
    }

    /// <summary>"+OK n size" (STAT, LIST n) or "+OK n uid" (UIDL n) exactly as RFC 1939 writes them, for message <paramref name="number"/> when given.</summary>
    private static bool StrictStatus(byte[]? line, int? number, bool uidl) =>
        line is { Length: > 4 and <= 512 } && line.AsSpan().StartsWith("+OK "u8) && StrictEntry(line.AsSpan(4), uidl, out long n) && (number is null || n == number);

    /// <summary>A multi-line LIST or UIDL as RFC 1939 writes it: strict entries, each number once, none past STAT's count.</summary>
    private static bool StrictListing(Reference reply, bool uidl, int? highest)
    {
        byte[]? status = reply.Line();
        if (status is not { Length: <= 512 } || !Reference.IsOk(status))
            return false;
        var seen = new HashSet<long>();
        while (reply.Line() is { } line)
        {
            if (line is [(byte)'.'])
                return true;
            if (line.Length > 512 || !StrictEntry(line, uidl, out long number) || !seen.Add(number) || number > (highest ?? int.MaxValue))
                return false;
        }

        return false;
    }

    // "number SP size" or "number SP unique-id": a number 1–999,999,999 without leading zeros, a size of
    // at most 18 digits, a unique-id of 1–70 characters in 0x21–0x7E.
    private static bool StrictEntry(ReadOnlySpan<byte> text, bool uidl, out long number)
    {
        number = 0;
        int space = text.IndexOf((byte)' ');
        if (space is < 1 or > 9 || text[0] == (byte)'0' || text[..space].ContainsAnyExceptInRange((byte)'0', (byte)'9'))
            return false;
        number = long.Parse(System.Text.Encoding.ASCII.GetString(text[..space]), System.Globalization.CultureInfo.InvariantCulture);
        ReadOnlySpan<byte> rest = text[(space + 1)..];
        return uidl
            ? rest.Length is >= 1 and <= 70 && !rest.ContainsAnyExceptInRange((byte)0x21, (byte)0x7E)
            : rest.Length is >= 1 and <= 18 && !rest.ContainsAnyExceptInRange((byte)'0', (byte)'9');
    }

    private void Listed(string verb, int entries)
    {
        _reference.Reply(multiLine: true, out int lines);
        Expect(_reference.Lost || entries == lines, $"{verb} returned {entries} entries for {lines} lines.");
    }

    /// <summary>A listing's numbers: each at least 1, none twice, none past STAT's count (no DELE before it here).</summary>
    private static void CheckNumbers(IEnumerable<int> numbers, int? highest)
    {
        var seen = new HashSet<int>();
        foreach (int number in numbers)
        {
            Expect(number >= 1 && seen.Add(number), $"A listing returned message number {number} twice or below 1.");
            Expect(highest is not int max || number <= max, $"A listing returned message number {number}, past STAT's {highest}.");
        }
    }

    private void Misc()
    {
        switch (_input.Variant)
        {
            case 0:
                if (Authorized)
                    Utf8();
                _reference.Lose();
                if (Authorized)
                    Try("LOGIN", () => Client.Login("fuzzüser", Password), () => Client.LoginAsync("fuzzüser", Password), Allowed.Authentication | Allowed.NotSupported, out _);
                _reference.Lose();
                break;
            case 1:
                if (Authorized && Reply("USER", () => Client.User(User), () => Client.UserAsync(User), Allowed.None, out _)
                    && Reply("RPOP", () => Client.Rpop(User), () => Client.RpopAsync(User), Allowed.Authentication, out _))
                    AfterLogin();
                break;
            case 2:
                if (LogIn())
                {
                    int n = MessageNumber;
                    if (InTransaction)
                        Reply("NOOP", Client.Noop, () => Client.NoopAsync(), Allowed.None, out _);
                    if (InTransaction)
                        Reply("DELE", () => Client.Dele(n), () => Client.DeleAsync(n), Allowed.None, out _);
                    if (InTransaction)
                        Reply("RSET", Client.Rset, () => Client.RsetAsync(), Allowed.None, out _);
                }

                break;
            default:
                if (LogIn())
                    Languages();
                // Disposed without QUIT: the deletions are not committed, nothing throws.
                return;
        }

        Quit();
    }
}
