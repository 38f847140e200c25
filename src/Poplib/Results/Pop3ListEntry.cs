namespace Poplib;

/// <summary>One line of a LIST reply: a message number and the message's size.</summary>
/// <param name="Number">The message number (1-based; numbers of deleted messages are absent).</param>
/// <param name="Size">The size in octets as the server reports it.</param>
public readonly record struct Pop3ListEntry(int Number, long Size);
