namespace Poplib.Fetch.PostgreSql.Schema;

/// <summary>
/// The schema, as numbered steps: a database at version N has run steps 1..N, in order, each once. A new release adds a
/// step and never edits an old one. <c>{s}</c> stands for the schema's name.
/// </summary>
internal static class SchemaMigrations
{
    /// <summary>The steps; the version a database reaches is their count.</summary>
    public static readonly string[] Steps =
    [
        // 1: the same rows and two-phase rules as the SQLite store, plus what several workers share: leases with fencing
        // tokens, the accounts (definitions and schedule), and each account's status for --status.
        """
        CREATE TABLE {s}.messages (
            account     text NOT NULL,
            key         text NOT NULL,
            status      text NOT NULL,
            size        bigint NOT NULL,
            message_id  text,
            digest      text,
            destination text NOT NULL,
            location    text,
            on_server   boolean NOT NULL DEFAULT true,
            fetched_at  timestamptz NOT NULL DEFAULT now(),
            deleted_at  timestamptz,
            lease_token bigint,
            PRIMARY KEY (account, key));
        CREATE INDEX messages_by_message_id ON {s}.messages (message_id, account) WHERE message_id IS NOT NULL;

        CREATE SEQUENCE {s}.lease_tokens;
        CREATE TABLE {s}.leases (
            account  text PRIMARY KEY,
            owner    text NOT NULL,
            token    bigint NOT NULL,
            acquired timestamptz NOT NULL,
            expires  timestamptz NOT NULL);

        CREATE TABLE {s}.accounts (
            name             text PRIMARY KEY,
            mailbox          text NOT NULL UNIQUE,
            definition       jsonb NOT NULL,
            interval_seconds double precision NOT NULL CHECK (interval_seconds > 0),
            enabled          boolean NOT NULL DEFAULT true,
            next_run         timestamptz NOT NULL DEFAULT now(),
            updated          timestamptz NOT NULL DEFAULT now());
        CREATE INDEX accounts_due ON {s}.accounts (next_run) WHERE enabled;

        CREATE TABLE {s}.account_status (
            name                 text PRIMARY KEY,
            last_run_started     timestamptz,
            last_run_ended       timestamptz,
            last_success         timestamptz,
            last_outcome         text,
            last_error           text,
            last_error_at        timestamptz,
            consecutive_failures integer NOT NULL DEFAULT 0,
            next_run             timestamptz,
            runs                 bigint NOT NULL DEFAULT 0,
            interval_seconds     double precision NOT NULL DEFAULT 0,
            last_owner           text,
            updated              timestamptz NOT NULL DEFAULT now());

        -- The fence: every state write runs this first, in its own transaction. It fails unless the writer's lease is
        -- current, and FOR SHARE keeps a take-over (an UPDATE of that row) from committing until the write has.
        CREATE FUNCTION {s}.fence(p_account text, p_token bigint) RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM 1 FROM {s}.leases
                WHERE account = p_account AND token = p_token AND expires > clock_timestamp() FOR SHARE;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'the lease on % (token %) is not held', p_account, p_token USING ERRCODE = 'PL001';
            END IF;
        END $$;
        """,

        // 2: accounts compared byte by byte. A mailbox key is "user@host:port"; the first run of a mailbox asks whether the
        // same user has rows under another key — a prefix, which the primary key's index can answer as a range only in the
        // "C" collation (in a linguistic one it was a scan of every message row: 13 ms a run at 20,000 rows, growing with
        // the table). Keys are identifiers, never sorted for people, so byte order is the right order for them anyway.
        """
        ALTER TABLE {s}.messages ALTER COLUMN account TYPE text COLLATE "C";
        """,
    ];

    /// <summary>The SQLSTATE the fence raises.</summary>
    public const string LeaseNotHeld = "PL001";
}
