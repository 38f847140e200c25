using Microsoft.Data.Sqlite;
using Poplib.Fetch;
using Poplib.Fetch.State;

namespace Poplib.Tests.Fetch;

/// <summary>
/// The SQLite store writes a group of rows (or keys) as one statement over a JSON array: every value
/// must come back exactly as it went in, whatever its characters, and the set operations must touch
/// the rows they name and no others.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class SqliteStateWritesTests : IDisposable
{
    private static readonly AccountKey Account = new("alice", "pop.example.org", 995);
    private static readonly AccountKey Other = new("bob", "pop.example.org", 995);
    private readonly string _folder = Directory.CreateTempSubdirectory("poplib-state-").FullName;
    private readonly SqliteFetchStateStore _store;

    public SqliteStateWritesTests() => _store = SqliteFetchStateStore.Open(Path.Combine(_folder, "fetch.sqlite"));

    public void Dispose()
    {
        _store.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public void Every_value_of_a_group_comes_back_exactly_whatever_its_characters()
    {
        StoredMessage[] rows =
        [
            new(MessageKey.FromUidl("plain-1"), MessageStatus.Delivered, 4096, "<a@b>", new string('a', 64), "maildir:/m", "1.M1P2Q3.host,S=4096", OnServer: true),
            new(MessageKey.FromUidl("q\"uo'te\\back"), MessageStatus.Delivering, 0, null, null, "mbox:/var/mail/al\"ice", null, OnServer: false),
            new(MessageKey.Parse("dup-7/fp:0123456789abcdef01234567:812"), MessageStatus.Truncated, long.MaxValue,
                "<ctl\u0001\u001f\ttab\u007f@x>", "d", "maildir:/ü/日本/😀", "loc\nline\r", OnServer: true),
            new(MessageKey.FromUidl("</script>&amp;"), MessageStatus.Seen, 1, "", "", "", "", OnServer: false),
        ];

        _store.Save(Account, rows);

        Dictionary<MessageKey, StoredMessage> back = _store.Load(Account);
        Assert.Equal(rows.Length, back.Count);
        foreach (StoredMessage row in rows)
            Assert.Equal(row, back[row.Key]);
        Assert.Empty(_store.Load(Other));
        Assert.Equal("integer", Scalar("SELECT typeof(size) FROM messages WHERE key = 'plain-1'"));
    }

    [Fact]
    public void A_second_save_replaces_the_rows_and_dates_a_deletion()
    {
        MessageKey key = MessageKey.FromUidl("m1");
        _store.Save(Account, [new(key, MessageStatus.Delivering, 10, null, null, "maildir:/m", "tmp-name", OnServer: true)]);
        Assert.Null(Scalar("SELECT deleted_at FROM messages WHERE key = 'm1'"));

        _store.Save(Account, [new(key, MessageStatus.Deleted, 11, "<id@x>", "ab", "maildir:/m", "final", OnServer: false)]);

        Assert.Equal(new StoredMessage(key, MessageStatus.Deleted, 11, "<id@x>", "ab", "maildir:/m", "final", false), Assert.Single(_store.Load(Account)).Value);
        Assert.NotNull(Scalar("SELECT deleted_at FROM messages WHERE key = 'm1'"));
        Assert.NotNull(Scalar("SELECT fetched_at FROM messages WHERE key = 'm1'"));
    }

    [Fact]
    public void A_group_of_twenty_thousand_rows_is_one_save()
    {
        StoredMessage[] rows = [.. Enumerable.Range(0, 20_000).Select(i =>
            new StoredMessage(MessageKey.FromUidl($"uid-{i}"), MessageStatus.Delivered, i, $"<{i}@x>", $"{i:x64}", "maildir:/m", $"{i}.name,S={i}", OnServer: true))];

        _store.Save(Account, rows);

        Dictionary<MessageKey, StoredMessage> back = _store.Load(Account);
        Assert.Equal(20_000, back.Count);
        Assert.Equal(rows[12_345], back[rows[12_345].Key]);
    }

    [Fact]
    public void Set_operations_touch_the_named_rows_of_the_account_only()
    {
        StoredMessage Row(string uid) => new(MessageKey.FromUidl(uid), MessageStatus.Delivered, 1, null, null, "maildir:/m", uid, OnServer: true);
        _store.Save(Account, [Row("a"), Row("b"), Row("c"), Row("d'quote")]);
        _store.Save(Other, [Row("a"), Row("b")]);

        _store.SetStatus(Account, [MessageKey.FromUidl("b"), MessageKey.FromUidl("d'quote"), MessageKey.FromUidl("not-there")], MessageStatus.Deleted);
        Dictionary<MessageKey, StoredMessage> rows = _store.Load(Account);
        Assert.Equal(MessageStatus.Deleted, rows[MessageKey.FromUidl("b")].Status);
        Assert.False(rows[MessageKey.FromUidl("b")].OnServer);
        Assert.Equal(MessageStatus.Deleted, rows[MessageKey.FromUidl("d'quote")].Status);
        Assert.Equal(MessageStatus.Delivered, rows[MessageKey.FromUidl("a")].Status);
        Assert.All(_store.Load(Other).Values, r => Assert.Equal(MessageStatus.Delivered, r.Status));

        // The server now lists a and c only: b and d are gone from it, a new listing brings c back after it was absent.
        _store.MarkOnServer(Account, new HashSet<MessageKey> { MessageKey.FromUidl("a") });
        Assert.Equal(["a"], OnServer(Account));
        _store.MarkOnServer(Account, new HashSet<MessageKey> { MessageKey.FromUidl("a"), MessageKey.FromUidl("c") });
        Assert.Equal(["a", "c"], OnServer(Account));
        Assert.Equal(["a", "b"], OnServer(Other));
        _store.MarkOnServer(Account, new HashSet<MessageKey>());
        Assert.Empty(OnServer(Account));

        _store.Forget(Account, [MessageKey.FromUidl("a"), MessageKey.FromUidl("d'quote")]);
        Assert.Equal(["b", "c"], _store.Load(Account).Keys.Select(k => k.Value).Order());
        Assert.Equal(2, _store.Load(Other).Count);
        _store.Forget(Account, []);
        Assert.Equal(2, _store.Load(Account).Count);
    }

    private string[] OnServer(AccountKey account) =>
        [.. _store.Load(account).Values.Where(r => r.OnServer).Select(r => r.Key.Value).Order()];

    private object? Scalar(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={_store.Path};Pooling=False");
        connection.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        object? value = command.ExecuteScalar();
        return value is DBNull ? null : value;
    }
}
