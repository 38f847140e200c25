using System.Globalization;

namespace Poplib.Fetch.Delivery.Lmtp;

/// <summary>
/// One reply of an LMTP server (RFC 5321 section 4.2): a three-digit code, the enhanced status code
/// when the server gave one (RFC 3463, e.g. <c>5.1.1</c>), and the text of each line with the code
/// (and the enhanced code) taken off. The text is the server's, with control characters escaped.
/// </summary>
internal sealed class LmtpReply
{
    public LmtpReply(int code, string? enhancedCode, IReadOnlyList<string> lines)
    {
        Code = code;
        EnhancedCode = enhancedCode;
        Lines = lines;
    }

    public int Code { get; }

    /// <summary><c>class.subject.detail</c> as the server sent it, or null.</summary>
    public string? EnhancedCode { get; }

    public IReadOnlyList<string> Lines { get; }

    /// <summary>The lines' text, joined by a space.</summary>
    public string Text => string.Join(' ', Lines.Where(l => l.Length > 0));

    public bool IsPositive => Code is >= 200 and < 300;

    public bool IsIntermediate => Code is >= 300 and < 400;

    public bool IsTransientFailure => Code is >= 400 and < 500;

    public bool IsPermanentFailure => Code >= 500;

    public override string ToString()
    {
        string code = Code.ToString(CultureInfo.InvariantCulture);
        string text = Text;
        return EnhancedCode is null
            ? (text.Length == 0 ? code : $"{code} {text}")
            : $"{code} {EnhancedCode} {text}".TrimEnd();
    }
}
