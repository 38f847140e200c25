namespace Poplib;

/// <summary>One language a server offers for its replies (RFC 6856 LANG).</summary>
/// <param name="Tag">The language tag (RFC 5646), for example <c>en</c> or <c>de-CH</c>.</param>
/// <param name="Description">The server's description of it, possibly empty.</param>
public readonly record struct Pop3Language(string Tag, string Description);
