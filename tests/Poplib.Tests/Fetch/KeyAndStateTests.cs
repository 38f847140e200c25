using Microsoft.Data.Sqlite;
using Poplib.Fetch;
using Poplib.Fetch.State;

namespace Poplib.Tests.Fetch;

/// <summary>Typed identities, and state files written before the engine became a library.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class KeyAndStateTests
{
    [Fact]
    public void A_UIDL_key_is_only_a_UIDL_even_when_it_looks_like_a_fingerprint()
    {
        MessageKey plain = MessageKey.FromUidl("msg-1");
        Assert.True(plain.HasUidl);
        Assert.False(plain.HasFingerprint);
        Assert.Equal("msg-1", plain.Uidl);
        Assert.Equal("msg-1", plain.Value);

        // A server may hand out any printable UIDL, "fp:" in it included: built from UIDL, it stays one.
        MessageKey tricky = MessageKey.FromUidl("xfp:abc");
        Assert.False(tricky.HasFingerprint);
        Assert.Equal(tricky, MessageKey.Parse("xfp:abc"));
        Assert.False(MessageKey.Parse("xfp:abc").HasFingerprint);
    }

    [Fact]
    public void Stored_keys_parse_back_to_their_kind()
    {
        MessageKey print = MessageKey.Parse("fp:0123456789abcdef01234567:812");
        Assert.True(print.HasFingerprint);
        Assert.False(print.HasUidl);
        Assert.Null(print.Uidl);

        MessageKey shared = MessageKey.Parse("dup-7/fp:0123456789abcdef01234567:812");
        Assert.True(shared.HasUidl);
        Assert.True(shared.HasFingerprint);
        Assert.Equal("dup-7", shared.Uidl);
        Assert.Equal("fp:0123456789abcdef01234567:812", shared.Fingerprint);
        Assert.Equal("dup-7/fp:0123456789abcdef01234567:812", shared.ToString());

        Assert.Equal(MessageKey.FromUidl("a"), MessageKey.Parse("a"));
        Assert.NotEqual(MessageKey.FromUidl("a"), MessageKey.FromUidl("A"));
        Assert.Throws<ArgumentException>(() => MessageKey.Parse(""));
    }

    [Fact]
    public void The_account_key_is_user_host_in_lower_case_and_port()
    {
        var key = new AccountKey("Alice@Corp", "POP.Example.ORG", 995);
        Assert.Equal("Alice@Corp@pop.example.org:995", key.ToString());
        Assert.Equal(key, new AccountKey("Alice@Corp", "pop.example.org", 995));
        Assert.NotEqual(key, new AccountKey("Alice@Corp", "pop.example.org", 110));
        var account = new FetchAccount("Pop.Example.org", "alice", _ => ValueTask.FromResult("x"), FetchDestination.Maildir("/tmp/m"));
        Assert.Equal(new AccountKey("alice", "pop.example.org", 995), account.Key);
        Assert.Equal(new AccountKey("alice", "pop.example.org", 110), (account with { Tls = FetchTls.StartTls }).Key);
    }

    [Fact]
    public async Task A_state_file_written_by_the_CLI_before_the_library_keeps_working()
    {
        await using EngineWorld world = await EngineWorld.StartAsync(3);
        List<string> uidls = await world.UidlsAsync();
        // The state as poplib fetch wrote it before Poplib.Fetch existed: schema 1, the account key as
        // "user@host:port", bare UIDLs, status names as text. Written here with plain SQL, not the store.
        Directory.CreateDirectory(Path.GetDirectoryName(world.StatePath)!, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.Create(world.StatePath).Dispose();
        File.SetUnixFileMode(world.StatePath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using (var connection = new SqliteConnection($"Data Source={world.StatePath};Pooling=False"))
        {
            connection.Open();
            using SqliteCommand create = connection.CreateCommand();
            create.CommandText = $"""
                PRAGMA journal_mode=WAL;
                CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE messages(
                    account TEXT NOT NULL, key TEXT NOT NULL, status TEXT NOT NULL, size INTEGER NOT NULL,
                    message_id TEXT, digest TEXT, destination TEXT NOT NULL, location TEXT,
                    on_server INTEGER NOT NULL DEFAULT 1, fetched_at TEXT NOT NULL, deleted_at TEXT,
                    PRIMARY KEY(account, key)) WITHOUT ROWID;
                CREATE INDEX messages_by_id ON messages(account, message_id, size);
                INSERT INTO meta VALUES('schema', '1');
                INSERT INTO messages VALUES('alice@127.0.0.1:{world.Server.Port}', '{uidls[0]}', 'Delivered', {ListSize(1)}, '{EngineWorld.MessageId(1)}', NULL, 'maildir:/nowhere', NULL, 1, '2026-01-01T00:00:00Z', NULL);
                INSERT INTO messages VALUES('alice@127.0.0.1:{world.Server.Port}', '{uidls[1]}', 'Delivered', {ListSize(2)}, '{EngineWorld.MessageId(2)}', NULL, 'maildir:/nowhere', NULL, 1, '2026-01-01T00:00:00Z', NULL);
                """;
            create.ExecuteNonQuery();
        }

        var sink = new RecordingSink();
        FetchResult result = await world.RunAsync(world.Account(FetchDestination.Sink(sink)));

        Assert.Equal(1, result.Delivered);
        Assert.Equal([EngineWorld.MessageId(3)], sink.Accepted.Select(a => a.Message.MessageId));
        Dictionary<MessageKey, StoredMessage> rows = world.State();
        Assert.Equal(3, rows.Count);
        Assert.Equal("maildir:/nowhere", rows[MessageKey.FromUidl(uidls[0])].Destination);
        Assert.Equal(MessageStatus.Delivered, rows[MessageKey.FromUidl(uidls[2])].Status);
    }

    /// <summary>The size LIST gives: the message with CRLF line ends.</summary>
    private static int ListSize(int n) => EngineWorld.Message(n).Length + EngineWorld.Message(n).Count(b => b == (byte)'\n');
}
