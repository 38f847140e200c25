namespace Poplib.Fetch.Delivery.Lmtp;

/// <summary>
/// Checks what goes into a command line before anything is sent: no CR, LF or NUL (which would end
/// the command and start another), no other control characters, no angle brackets or spaces (which
/// would end the path), and RFC 5321's length limits. Usage errors are <see cref="ArgumentException"/>s.
/// </summary>
internal static class LmtpAddress
{
    /// <summary>RFC 5321 section 4.5.3.1.3: a path is at most 256 octets, its brackets included.</summary>
    public const int MaxPathLength = 254;

    /// <summary>The sender of MAIL FROM: an address, or the empty string for the null path <c>&lt;&gt;</c>.</summary>
    public static void ValidateSender(string sender, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(sender, parameterName);
        if (sender.Length > 0)
            Validate(sender, "sender", parameterName);
    }

    public static void ValidateRecipient(string recipient, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(recipient, parameterName);
        if (recipient.Length == 0)
            throw new ArgumentException("A recipient must not be empty (only the sender may be the null path <>).", parameterName);
        Validate(recipient, "recipient", parameterName);
    }

    /// <summary>The name given in LHLO: a domain or an address literal, nothing that would break the line.</summary>
    public static void ValidateDomain(string name, string parameterName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name, parameterName);
        foreach (char c in name)
        {
            if (c <= ' ' || c >= 0x7f)
                throw new ArgumentException($"The LHLO name must be printable ASCII without spaces; it contains {Describe(c)}.", parameterName);
        }
    }

    /// <summary>Whether an address needs SMTPUTF8 (RFC 6531) to be sent.</summary>
    public static bool IsAscii(string address) => System.Text.Ascii.IsValid(address);

    private static void Validate(string address, string role, string parameterName)
    {
        foreach (char c in address)
        {
            if (c is '\r' or '\n' or '\0' || char.IsControl(c) || c is ' ' or '<' or '>')
                throw new ArgumentException($"The {role} '{Shown(address)}' contains {Describe(c)}; it cannot be sent in an LMTP command.", parameterName);
        }

        if (System.Text.Encoding.UTF8.GetByteCount(address) > MaxPathLength)
            throw new ArgumentException($"The {role} is longer than {MaxPathLength} octets, the most RFC 5321 allows.", parameterName);
    }

    private static string Describe(char c) => c switch
    {
        '\r' => "a CR",
        '\n' => "an LF",
        '\0' => "a NUL",
        ' ' => "a space",
        '<' or '>' => $"'{c}'",
        _ => $"the character U+{(int)c:X4}",
    };

    private static string Shown(string address)
    {
        var shown = new System.Text.StringBuilder();
        foreach (char c in address.Length > 100 ? address[..100] : address)
            shown.Append(char.IsControl(c) ? $"\\x{(int)c:x2}" : c.ToString());
        return shown.ToString();
    }
}
