namespace Poplib;

/// <summary>One line of a UIDL reply: a message number and the message's unique, persistent id.</summary>
/// <param name="Number">The message number (1-based; numbers of deleted messages are absent).</param>
/// <param name="Uid">The unique id (RFC 1939: 1 to 70 printable characters).</param>
public readonly record struct Pop3UidlEntry(int Number, string Uid);
