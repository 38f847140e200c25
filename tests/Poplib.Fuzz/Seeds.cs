using System.Security.Cryptography;
using System.Text;

namespace Poplib.Fuzz;

/// <summary>
/// The seed corpus: realistic server transcripts for every scenario — greetings and CAPA lists of real
/// servers, listings with gaps, RETR with dot-stuffing, TOP as servers really answer it, every SASL
/// exchange (SCRAM's with the harness's fixed nonce and a correct server signature), STLS refusals —
/// each behind the four header bytes that choose its scenario (<see cref="FuzzInput"/>).
/// <c>--write-seeds tests/Poplib.Fuzz/corpus</c> writes them; the files are kept in the repository.
/// </summary>
internal static class Seeds
{
    private const byte Async = 0x01, Capa = 0x02, Tight = 0x04, Narrow = 0x08, Debug2 = 0x10, Secure = 0x20;

    private static byte V(int variant) => (byte)(variant << 6);

    private const string Dovecot = "+OK Dovecot (Debian) ready.";
    private const string ApopGreeting = "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>";

    private static readonly string[] DovecotCapa = ["CAPA", "TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE", "STLS", "USER", "SASL PLAIN LOGIN"];
    private static readonly string[] GmailCapa = ["USER", "RESP-CODES", "EXPIRE 0", "LOGIN-DELAY 300", "TOP", "UIDL", "X-GOOGLE-RICO", "SASL PLAIN XOAUTH2 OAUTHBEARER"];
    private static readonly string[] CourierCapa = ["TOP", "USER", "LOGIN-DELAY 10", "PIPELINING", "UIDL", "IMPLEMENTATION Courier Mail Server", "STLS", "SASL CRAM-MD5 CRAM-SHA1 LOGIN PLAIN"];
    private static readonly string[] CyrusCapa = ["EXPIRE NEVER", "LOGIN-DELAY 0", "TOP", "UIDL", "PIPELINING", "RESP-CODES", "AUTH-RESP-CODE", "UTF8", "LANG", "USER", "SASL SCRAM-SHA-256 SCRAM-SHA-1 PLAIN", "IMPLEMENTATION Cyrus POP3 v3.6.1"];
    private static readonly string[] MailutilsCapa = ["TOP", "USER", "UIDL", "RESP-CODES", "PIPELINING", "EXPIRENEVER", "LOGIN-DELAY 0", "IMPLEMENTATION GNU Mailutils 3.15"];

    // As on the wire, dot-stuffed: the lines ".this line…", "." and ".." of the message.
    private const string Message =
        "Return-Path: <bob@example.org>\r\nFrom: Bob <bob@example.org>\r\nTo: alice@example.org\r\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n" +
        "Message-ID: <20261207.1234@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
        "Hello Alice,\r\n..this line started with a dot\r\n..\r\n...\r\nand one more.\r\n\r\n-- \r\nBob\r\n";

    public static int Write(string directory)
    {
        Directory.CreateDirectory(directory);
        int count = 0;
        foreach ((string name, byte[] bytes) in All())
        {
            File.WriteAllBytes(Path.Combine(directory, name), bytes);
            count++;
        }

        Console.WriteLine($"seeds: {count} files in {directory}");
        return 0;
    }

    private static IEnumerable<(string Name, byte[] Bytes)> All()
    {
        // Greetings and CAPA lists of real servers; CAPA again, UTF8, LANG.
        (string Name, string Greeting, string[] Capa)[] servers =
        [
            ("dovecot", Dovecot, DovecotCapa),
            ("gmail", "+OK Gpop ready for requests from 203.0.113.5 d9mb12345pjb", GmailCapa),
            ("courier", "+OK Hello there.", CourierCapa),
            ("cyrus", "+OK pop.example.org Cyrus POP3 v3.6.1 server ready <3021583459.1701234567@pop.example.org>", CyrusCapa),
            ("mailutils", "+OK POP3 Ready <4242.1701234567@mail.example.org>", MailutilsCapa),
            ("exchange", "+OK The Microsoft Exchange POP3 service is ready. [QwBIADIAUABSADAAMgBDAEEAMAAwADQA]", ["TOP", "UIDL", "SASL NTLM GSSAPI PLAIN XOAUTH2", "USER"]),
            ("qpopper", "+OK QPOP (version 4.1.0) at mail.example.com starting.  <12345.1234567890@mail.example.com>", []),
        ];
        foreach ((string name, string greeting, string[] capa) in servers)
        {
            yield return Seed($"capa-{name}", Scenario.Capabilities, Capa, 0, 0, [greeting, .. CapaReply(capa), "+OK Bye-bye."]);
            yield return Seed($"capa-{name}-again-utf8-lang", Scenario.Capabilities, Capa | Async | V(3), 0, 0,
                [greeting, .. CapaReply(capa), .. CapaReply(capa), "+OK UTF8 enabled", "+OK Language listing follows", "en English", "de Deutsch", "i-default Default", ".", "+OK Sprache ist jetzt Deutsch", "+OK Bye"]);
        }

        yield return Seed("capa-none", Scenario.Capabilities, Capa | V(1), 0, 0, ["+OK old server", "-ERR unknown command", "-ERR unknown command", "-ERR LANG not supported", "-ERR no", "+OK bye"]);
        yield return SeedRaw("capa-bare-lf", Scenario.Capabilities, Capa, 0, 0, "+OK ready\n+OK\nTOP\n..dotted\n.\n+OK bye\n");

        // Login: the method the client picks.
        yield return Seed("login-plain", Scenario.Login, Capa, 0, 0, [Dovecot, .. CapaReply(DovecotCapa), "+OK Logged in.", .. CapaReply(DovecotCapa), "+OK 2 3000", "+OK 2 messages:", "1 1000", "2 2000", ".", "+OK Logging out."]);
        yield return Seed("login-user-pass", Scenario.Login, Capa | Async, 0, 0, ["+OK ready", .. CapaReply(["TOP", "UIDL", "USER"]), "+OK", "+OK maildrop locked and ready", .. CapaReply(["TOP", "UIDL"]), "+OK 0 0", "+OK", ".", "+OK"]);
        yield return Seed("login-apop", Scenario.Login, Capa, 0, 0, [ApopGreeting, .. CapaReply(["TOP", "UIDL", "USER"]), "+OK maildrop has 1 message (369 octets)", .. CapaReply(["TOP"]), "+OK 1 369", "+OK", "1 369", ".", "+OK"]);
        yield return Seed("login-cram-md5", Scenario.Login, Capa, 0, 0, ["+OK Hello there.", .. CapaReply(CourierCapa), "+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+", "+OK logged in.", .. CapaReply(CourierCapa), "+OK 1 10", "+OK", "1 10", ".", "+OK"]);
        yield return Seed("login-login", Scenario.Login, Capa | Async, 0, 0, ["+OK ready", .. CapaReply(["USER", "SASL LOGIN"]), "+ VXNlcm5hbWU6", "+ UGFzc3dvcmQ6", "+OK", .. CapaReply(["USER"]), "+OK 0 0", "+OK", ".", "+OK"]);
        yield return Seed("login-refused", Scenario.Login, Capa, 0, 0, [Dovecot, .. CapaReply(DovecotCapa), "-ERR [AUTH] Authentication failed.", "+OK Logging out."]);
        yield return Seed("login-in-use", Scenario.Login, 0, 0, 0, ["+OK ready", "+OK", "-ERR [IN-USE] mailbox locked by another session", "+OK"]);
        yield return Seed("login-insecure-refused", Scenario.Login, Capa | Secure, 0, 0, [Dovecot, .. CapaReply(DovecotCapa), "+OK"]);
        yield return Seed("login-scram-random-nonce", Scenario.Login, Capa, 0, 0, ["+OK ready", .. CapaReply(CyrusCapa), "+ " + B64("r=abc,s=QSXCR+Q6sek8bf92,i=4096"), "-ERR [AUTH] cancelled", "+OK"]);

        // APOP.
        yield return Seed("apop-ok", Scenario.Apop, 0, 0, 0, [ApopGreeting, "+OK maildrop has 2 messages (320 octets)", "+OK", "+OK dewey POP3 server signing off"]);
        yield return Seed("apop-capa", Scenario.Apop, Capa | Async, 0, 0, [ApopGreeting, .. CapaReply(["TOP", "UIDL", "USER"]), "+OK", .. CapaReply(["TOP", "UIDL", "PIPELINING"]), "+OK", "+OK"]);
        yield return Seed("apop-refused", Scenario.Apop, 0, 0, 0, [ApopGreeting, "-ERR [AUTH] permission denied", "+OK"]);
        yield return Seed("apop-no-timestamp", Scenario.Apop, 0, 0, 0, ["+OK POP3 server ready", "+OK"]);
        yield return Seed("apop-malformed-timestamp", Scenario.Apop, 0, 0, 0, ["+OK POP3 ready <1896.697170952 at dbc>", "+OK"]);
        yield return Seed("apop-insecure", Scenario.Apop, Secure, 0, 0, [ApopGreeting, "+OK"]);

        // Every SASL mechanism, explicitly.
        yield return Seed("sasl-plain", Scenario.Sasl, Capa, 0, 0, [Dovecot, .. CapaReply(DovecotCapa), "+OK Logged in.", .. CapaReply(DovecotCapa), "+OK 1 100", "+OK", "1 100", ".", "+OK"]);
        yield return Seed("sasl-plain-refused", Scenario.Sasl, 0, 0, 0, [Dovecot, "-ERR [AUTH] Authentication failed.", "+OK"]);
        yield return Seed("sasl-plain-challenge", Scenario.Sasl, 0, 0, 0, [Dovecot, "+ ", "-ERR cancelled", "+OK"]);
        yield return Seed("sasl-plain-deferred", Scenario.Sasl, V(1), 0, 0, [Dovecot, "+ ", "+OK Logged in.", "+OK 0 0", "+OK", ".", "+OK"]);
        yield return Seed("sasl-oauthbearer-deferred", Scenario.Sasl, V(1) | Async, 6, 0, [Dovecot, "+", "+ " + B64("{\"status\":\"invalid_token\"}"), "-ERR [AUTH] invalid", "+OK"]);
        yield return Seed("sasl-login", Scenario.Sasl, Async, 1, 0, [Dovecot, "+ VXNlcm5hbWU6", "+ UGFzc3dvcmQ6", "+OK Logged in.", "+OK 0 0", "+OK", ".", "+OK"]);
        yield return Seed("sasl-login-third", Scenario.Sasl, 0, 1, 0, [Dovecot, "+ VXNlcm5hbWU6", "+ UGFzc3dvcmQ6", "+ UGFzc3dvcmQ6", "-ERR cancelled", "+OK"]);
        yield return Seed("sasl-cram-md5", Scenario.Sasl, 0, 2, 0, ["+OK Hello there.", "+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+", "+OK", "+OK 0 0", "+OK", ".", "+OK"]);
        yield return Seed("sasl-cram-md5-empty", Scenario.Sasl, 0, 2, 0, ["+OK Hello there.", "+", "-ERR cancelled", "+OK"]);
        yield return Seed("sasl-cram-md5-no-challenge", Scenario.Sasl, 0, 2, 0, ["+OK Hello there.", "+OK", "+OK"]);
        foreach ((int mechanism, string hash) in new[] { (3, "SHA1"), (4, "SHA256") })
        {
            // 64 iterations rather than a real server's 4096: every input the fuzzer makes from these pays for them.
            (string first, string final) = Scram(new HashAlgorithmName(hash), 64);
            yield return Seed($"sasl-scram-{hash}", Scenario.Sasl, (byte)(mechanism == 4 ? Capa : 0), (byte)mechanism, 0,
                ["+OK ready", .. mechanism == 4 ? CapaReply(CyrusCapa) : [], "+ " + B64(first), "+ " + B64(final), "+OK Success", .. mechanism == 4 ? CapaReply(CyrusCapa) : [], "+OK 1 50", "+OK", "1 50", ".", "+OK"]);
            yield return Seed($"sasl-scram-{hash}-wrong-signature", Scenario.Sasl, Async, (byte)mechanism, 0, ["+OK ready", "+ " + B64(first), "+ " + B64("v=AAAAAAAAAAAAAAAAAAAAAAAAAAA="), "+OK"]);
            yield return Seed($"sasl-scram-{hash}-no-signature", Scenario.Sasl, 0, (byte)mechanism, 0, ["+OK ready", "+ " + B64(first), "+OK", "+OK"]);
            yield return Seed($"sasl-scram-{hash}-error", Scenario.Sasl, 0, (byte)mechanism, 0, ["+OK ready", "+ " + B64(first), "+ " + B64("e=invalid-proof"), "-ERR [AUTH] Authentication failed", "+OK"]);
            yield return Seed($"sasl-scram-{hash}-bad-nonce", Scenario.Sasl, 0, (byte)mechanism, 0, ["+OK ready", "+ " + B64("r=someoneelse,s=QSXCR+Q6sek8bf92,i=4096"), "-ERR cancelled", "+OK"]);
        }

        const string OAuthError = "{\"status\":\"invalid_token\",\"scope\":\"https://mail.google.com/\",\"schemes\":\"Bearer\"}";
        yield return Seed("sasl-xoauth2", Scenario.Sasl, Capa, 5, 0, ["+OK Gpop ready", .. CapaReply(GmailCapa), "+OK Welcome.", .. CapaReply(GmailCapa), "+OK 3 4000", "+OK", "1 1000", "2 1000", "3 2000", ".", "+OK Farewell."]);
        yield return Seed("sasl-xoauth2-refused", Scenario.Sasl, 0, 5, 0, ["+OK Gpop ready", "+ " + B64(OAuthError), "-ERR [AUTH] Invalid credentials", "+OK"]);
        yield return Seed("sasl-oauthbearer", Scenario.Sasl, Async, 6, 0, ["+OK ready", "+OK", "+OK 0 0", "+OK", ".", "+OK"]);
        yield return Seed("sasl-oauthbearer-refused", Scenario.Sasl, 0, 6, 0, ["+OK ready", "+ " + B64(OAuthError), "-ERR [AUTH] invalid token", "+OK"]);

        // OAuth login: the mechanism from CAPA.
        yield return Seed("oauth-oauthbearer", Scenario.OAuth, Capa, 0, 0, ["+OK Gpop ready", .. CapaReply(GmailCapa), "+OK Welcome.", .. CapaReply(GmailCapa), "+OK 0 0", "+OK", ".", "+OK"]);
        yield return Seed("oauth-xoauth2-refused", Scenario.OAuth, Capa | Async, 0, 0, ["+OK ready", .. CapaReply(["USER", "SASL XOAUTH2"]), "+ " + B64(OAuthError), "-ERR [AUTH] Invalid credentials", "+OK"]);
        yield return Seed("oauth-none", Scenario.OAuth, Capa, 0, 0, ["+OK ready", .. CapaReply(["USER", "SASL PLAIN"]), "+OK"]);

        // RETR into memory.
        string[] login = ["+OK POP3 server ready", "+OK", "+OK maildrop locked and ready"];
        string body = Message + ".\r\n";
        yield return SeedRaw("retr-memory", Scenario.RetrInMemory, 0, 0, 0, Lines([.. login, $"+OK {Message.Length} octets"]) + body + Lines(["+OK", "+OK"]));
        yield return SeedRaw("retr-memory-two", Scenario.RetrInMemory, Async | V(1), 0, 0, Lines([.. login, "+OK"]) + body + Lines(["-ERR no such message", "+OK", "+OK"]));
        yield return SeedRaw("retr-memory-capa", Scenario.RetrInMemory, Capa | Debug2, 1, 0, Lines([Dovecot, .. CapaReply(DovecotCapa), "+OK", "+OK Logged in.", .. CapaReply(DovecotCapa), "+OK 5 octets"]) + "hello\r\n.\r\n" + Lines(["+OK", "+OK"]));
        yield return SeedRaw("retr-memory-bare-lf", Scenario.RetrInMemory, 0, 0, 0, Lines([.. login, "+OK"]).Replace("\r\n", "\n", StringComparison.Ordinal) + body.Replace("\r\n", "\n", StringComparison.Ordinal) + "+OK\n+OK\n");
        yield return SeedRaw("retr-memory-empty", Scenario.RetrInMemory, 0, 0, 0, Lines([.. login, "+OK 0 octets", ".", "+OK", "+OK"]));
        yield return SeedRaw("retr-memory-cut", Scenario.RetrInMemory, 0, 0, 0, Lines([.. login, "+OK 400 octets"]) + Message);
        yield return SeedRaw("retr-memory-too-big", Scenario.RetrInMemory, Tight, 0, 0, Lines([.. login, "+OK 999999 octets"]) + body + Lines(["+OK", "+OK"]));
        yield return SeedRaw("retr-memory-lying-size", Scenario.RetrInMemory, 0, 0, 0, Lines([.. login, "+OK 3 octets"]) + body + Lines(["+OK", "+OK"]));
        yield return SeedRaw("retr-memory-no-such", Scenario.RetrInMemory, 0, 7, 0, Lines([.. login, "-ERR [SYS/PERM] no such message, only 2 messages in maildrop", "+OK", "+OK"]));

        // RETR streamed.
        for (int variant = 0; variant < 4; variant++)
        {
            yield return SeedRaw($"retr-stream-{variant}", Scenario.RetrStreamed, V(variant), 0, (byte)(variant * 5), Lines([.. login, "+OK"]) + body + Lines(["+OK", "+OK"]));
            yield return SeedRaw($"retr-stream-{variant}-async", Scenario.RetrStreamed, (byte)(Async | V(variant)), 0, 2, Lines([.. login, "+OK"]) + body + Lines(["+OK", "+OK"]));
        }

        yield return SeedRaw("retr-stream-cut", Scenario.RetrStreamed, V(2), 0, 3, Lines([.. login, "+OK"]) + Message[..100]);
        yield return SeedRaw("retr-stream-early-cut", Scenario.RetrStreamed, V(3), 0, 0, Lines([.. login, "+OK"]) + Message[..100]);

        // TOP, as servers answer it: exactly, one empty line too many (GNU mailutils), the whole message.
        string[] topHeads = ["exact", "mailutils-extra-line", "whole-message"];
        string head = Message[..(Message.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)];
        string[] tops = [head + "Hello Alice,\r\n..this line started with a dot\r\n.\r\n", head + "Hello Alice,\r\n..this line started with a dot\r\n..\r\n\r\n.\r\n", body];
        for (int variant = 0; variant < 4; variant++)
        {
            for (int kind = 0; kind < tops.Length; kind++)
                yield return SeedRaw($"top-{topHeads[kind]}-{variant}", Scenario.Top, (byte)(V(variant) | (kind == 1 ? Async : 0)), 0, 2, Lines([.. login, "+OK top of message follows"]) + tops[kind] + Lines(["+OK", "+OK"]));
        }

        yield return SeedRaw("top-excess-limit", Scenario.Top, Tight, 0, 0, Lines([.. login, "+OK"]) + body + Lines(["+OK", "+OK"]));
        yield return SeedRaw("top-header-only", Scenario.Top, 0, 0, 0, Lines([.. login, "+OK", "Subject: no body", ".", "+OK", "+OK"]));
        yield return SeedRaw("top-cr-line", Scenario.Top, V(2), 0, 1, Lines([.. login, "+OK"]) + "A: b\r\n\r\r\nbody1\r\nbody2\n\r\n.\r\n" + Lines(["+OK", "+OK"]));

        // Pipelined batches, left early or not.
        string[] pipelined = [Dovecot, .. CapaReply(DovecotCapa), "+OK", "+OK Logged in.", .. CapaReply(DovecotCapa)];
        string three = Lines(["+OK 10 octets"]) + "message 1\r\n.\r\n" + Lines(["-ERR [SYS/TEMP] message 2 is being delivered"]) + Lines(["+OK"]) + "..message 3\r\n.\r\n";
        yield return SeedRaw("batch-retr", Scenario.Batch, Capa, 2, 5, Lines(pipelined) + three + Lines(["+OK", "+OK"]));
        yield return SeedRaw("batch-retr-async-narrow", Scenario.Batch, Capa | Async | Narrow, 2, 5, Lines(pipelined) + three + Lines(["+OK", "+OK"]));
        yield return SeedRaw("batch-retr-early", Scenario.Batch, Capa, 2, 1, Lines(pipelined) + three + Lines(["+OK", "+OK"]));
        yield return SeedRaw("batch-retr-lockstep", Scenario.Batch, 0, 2, 5, Lines(login) + three + Lines(["+OK", "+OK"]));
        yield return SeedRaw("batch-retr-cut", Scenario.Batch, Capa, 2, 5, Lines(pipelined) + three[..40]);
        yield return SeedRaw("batch-retr-early-cut", Scenario.Batch, Capa | Async, 2, 1, Lines(pipelined) + three[..40]);
        yield return SeedRaw("batch-top", Scenario.Batch, Capa | V(1), 1, 1, Lines(pipelined) + Lines(["+OK"]) + head + "line 1\r\nline 2\r\n.\r\n" + Lines(["+OK"]) + "A: b\r\n\r\n.\r\n" + Lines(["+OK", "+OK"]));
        yield return SeedRaw("batch-listed", Scenario.Batch, Capa | V(2), 0, 5, Lines(pipelined) + Lines(["+OK 3 messages", "1 12", "3 15", "4 20", "."]) + three + Lines(["+OK", "+OK"]));
        yield return SeedRaw("batch-dele", Scenario.Batch, Capa | V(3), 2, 0, Lines(pipelined) + Lines(["+OK message 1 deleted", "-ERR message 2 already deleted", "+OK message 3 deleted", "+OK", "+OK dewey POP3 server signing off (2 messages left)"]));

        // STLS: refused, accepted then no TLS, bytes injected after +OK, not offered.
        yield return Seed("stls-refused", Scenario.Stls, Capa, 0, 0, [Dovecot, .. CapaReply(DovecotCapa), "-ERR [SYS/TEMP] TLS not available now", "+OK"]);
        yield return Seed("stls-refused-then-login", Scenario.Stls, Capa | Secure, 0, 0, [Dovecot, .. CapaReply(DovecotCapa), "-ERR TLS not available", "+OK"]);
        yield return Seed("stls-accepted", Scenario.Stls, Capa | Async, 0, 0, [Dovecot, .. CapaReply(DovecotCapa), "+OK Begin TLS negotiation now."]);
        yield return Seed("stls-injected", Scenario.Stls, Capa, 0, 0, [Dovecot, .. CapaReply(DovecotCapa), "+OK Begin TLS negotiation now.", "+OK injected"]);
        yield return SeedRaw("stls-garbage", Scenario.Stls, Capa, 0, 0, Lines([Dovecot, .. CapaReply(DovecotCapa), "+OK"]) + "\x16\x03\x03\x00\x02\x02\x28");
        yield return Seed("stls-not-offered", Scenario.Stls, Capa, 0, 0, ["+OK ready", .. CapaReply(["TOP", "USER"]), "+OK"]);
        yield return Seed("stls-no-capa", Scenario.Stls, 0, 0, 0, ["+OK ready", "+OK"]);

        // Listings: STAT, LIST, UIDL, LIST n, UIDL n, DELE, RSET.
        string[] listing = ["+OK 3 5120", "+OK 3 messages (5120 octets)", "1 1024", "2 2048", "3 2048", ".", "+OK unique-id listing follows", "1 whqtswO00WBw418f9t5JxYwZ", "2 QhdPYR:00WBw1Ph7x7", "3 =?utf8?.x", ".", "+OK 2 2048", "+OK 2 QhdPYR:00WBw1Ph7x7", "+OK message 2 deleted", "+OK maildrop has 3 messages", "+OK bye"];
        yield return Seed("listings", Scenario.Listings, 0, 1, 0, [.. login, .. listing]);
        yield return Seed("listings-async-capa", Scenario.Listings, Capa | Async | Debug2, 1, 0, [Dovecot, .. CapaReply(DovecotCapa), "+OK", "+OK Logged in.", .. CapaReply(DovecotCapa), .. listing]);
        yield return Seed("listings-gaps", Scenario.Listings, 0, 2, 0, [.. login, "+OK 2 300", "+OK", "1 100", "3 200", ".", "+OK", "1 a", "3 c", ".", "-ERR no such message", "-ERR no such message", "-ERR message 3 already deleted", "+OK", "+OK"]);
        yield return Seed("listings-duplicate", Scenario.Listings, 0, 0, 0, [.. login, "+OK 2 300", "+OK", "2 100", "1 200", "2 100", "."]);
        yield return Seed("listings-out-of-range", Scenario.Listings, 0, 0, 0, [.. login, "+OK 1 300", "+OK", "1 100", "7 200", "."]);
        yield return Seed("listings-bad-uid", Scenario.Listings, 0, 0, 0, [.. login, "+OK 1 100", "+OK", "1 100", ".", "+OK", "1 caf\u00e9", "."]);
        yield return Seed("listings-tight", Scenario.Listings, Tight, 0, 0, [.. login, "+OK 20 2000", "+OK", .. Enumerable.Range(1, 20).Select(i => $"{i} 100"), "."]);
        yield return Seed("listings-tabs", Scenario.Listings, 0, 0, 0, [.. login, "+OK\t2\t20 extra", "+OK", "1\t10", "2  10  x", ".", "+OK", "1 a b", "2 b", ".", "+OK 1 10", "+OK 1 a", "+OK", "+OK", "+OK"]);

        // The rest: UTF8 and a non-ASCII login, RPOP, NOOP/DELE/RSET, LANG after login.
        yield return Seed("misc-utf8-login", Scenario.Misc, Capa | V(0), 0, 0, ["+OK ready", .. CapaReply(["USER", "UTF8 USER", "LANG"]), "+OK UTF8 enabled", "+OK", "+OK Grüße", .. CapaReply(["UTF8"]), "+OK"]);
        yield return Seed("misc-rpop", Scenario.Misc, V(1), 0, 0, ["+OK ready", "+OK", "+OK maildrop ready", "+OK"]);
        yield return Seed("misc-noop-dele-rset", Scenario.Misc, V(2) | Async, 3, 0, [.. login, "+OK", "+OK message 4 deleted", "+OK", "+OK"]);
        yield return Seed("misc-lang", Scenario.Misc, V(3), 0, 0, [.. login, "+OK Language listing follows", "en English", "fr Français", "*", ".", "-ERR [UTF8] no"]);
    }

    private static IEnumerable<string> CapaReply(string[] capabilities) =>
        capabilities.Length == 0 ? ["-ERR unknown command"] : ["+OK Capability list follows", .. capabilities, "."];

    private static string Lines(IEnumerable<string> lines) => string.Concat(lines.Select(l => l + "\r\n"));

    private static (string Name, byte[] Bytes) Seed(string name, Scenario scenario, int flags, byte first, byte second, IEnumerable<string> lines) =>
        SeedRaw(name, scenario, flags, first, second, Lines(lines));

    private static (string Name, byte[] Bytes) SeedRaw(string name, Scenario scenario, int flags, byte first, byte second, string server) =>
        (name, [(byte)scenario, (byte)flags, first, second, .. Encoding.UTF8.GetBytes(server)]);

    private static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    /// <summary>A SCRAM server's first and final messages for the harness's user, password and nonce, signed correctly.</summary>
    private static (string First, string Final) Scram(HashAlgorithmName hash, int iterations)
    {
        byte[] salt = Convert.FromBase64String("QSXCR+Q6sek8bf92");
        string nonce = Session.ScramNonce + "3rfcNHYJY1ZVvWVs7j";
        string clientFirstBare = $"n={Outputs.User},r={Session.ScramNonce}";
        string serverFirst = $"r={nonce},s={Convert.ToBase64String(salt)},i={iterations}";
        string authMessage = $"{clientFirstBare},{serverFirst},c=biws,r={nonce}";
        int length = hash == HashAlgorithmName.SHA1 ? 20 : 32;
        byte[] salted = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(Outputs.Password), salt, iterations, hash, length);
        byte[] serverKey = CryptographicOperations.HmacData(hash, salted, "Server Key"u8);
        byte[] signature = CryptographicOperations.HmacData(hash, serverKey, Encoding.UTF8.GetBytes(authMessage));
        return (serverFirst, "v=" + Convert.ToBase64String(signature));
    }
}
