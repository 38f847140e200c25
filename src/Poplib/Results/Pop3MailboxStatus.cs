namespace Poplib;

/// <summary>The reply to STAT: how many messages the mailbox holds and their total size.</summary>
/// <param name="Count">The number of messages not marked as deleted.</param>
/// <param name="Size">Their total size in octets, as the server counts them.</param>
public readonly record struct Pop3MailboxStatus(int Count, long Size);
