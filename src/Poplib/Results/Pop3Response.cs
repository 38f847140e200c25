namespace Poplib;

/// <summary>One status line from the server: <c>+OK text</c> or <c>-ERR text</c>.</summary>
/// <param name="IsOk"><see langword="true"/> for <c>+OK</c>, <see langword="false"/> for <c>-ERR</c>.</param>
/// <param name="Line">The whole line as received, without its line ending (what poplib returns).</param>
/// <param name="Text">The text after the status indicator and its space, including any <c>[CODE]</c>.</param>
/// <param name="Code">The RFC 2449 response code, or <see cref="Pop3ResponseCode.None"/>.</param>
/// <param name="CodeText">The bracketed code as sent (for example <c>SYS/TEMP</c>), or <see langword="null"/>.</param>
public sealed record Pop3Response(bool IsOk, string Line, string Text, Pop3ResponseCode Code, string? CodeText)
{
    /// <inheritdoc/>
    public override string ToString() => Line;
}
