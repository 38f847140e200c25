namespace Poplib.Testing;

/// <summary>
/// What a user's mailbox gives the server: the messages, in order, when a session logs in; and the
/// removal of the messages deleted in that session when it ends with QUIT (RFC 1939's UPDATE state).
/// The server holds a per-mailbox lock between the two, so an implementation is never opened by two
/// sessions at once. Ready-made ones: <see cref="Pop3Mailbox"/>.
/// </summary>
public interface IPop3Mailbox
{
    /// <summary>The messages as they are now; message 1 is the first. Called once per login.</summary>
    ValueTask<IReadOnlyList<Pop3MailboxMessage>> OpenAsync(CancellationToken cancellationToken);

    /// <summary>Removes <paramref name="deleted"/> (messages this mailbox returned from <see cref="OpenAsync"/>) for good.</summary>
    ValueTask CommitAsync(IReadOnlyList<Pop3MailboxMessage> deleted, CancellationToken cancellationToken);

    /// <summary>
    /// Whether nothing may be deleted: the server then answers DELE with <c>-ERR [SYS/PERM]</c> and
    /// never calls <see cref="CommitAsync"/>. Default false; see <see cref="Pop3Mailbox.ReadOnly"/>.
    /// </summary>
    bool IsReadOnly => false;
}
