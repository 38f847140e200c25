using System.Text;

namespace Poplib.Commands;

/// <summary>
/// One command line: a verb and up to two arguments. It checks its arguments, writes itself in
/// wire form, and knows which argument is secret so that logs and audit events never show it.
/// </summary>
internal readonly struct Pop3Command
{
    private const string Mask = "****";

    private Pop3Command(string verb, string? first, string? second, int secretArgument)
    {
        Verb = verb;
        First = first;
        Second = second;
        SecretArgument = secretArgument;
    }

    public string Verb { get; }

    public string? First { get; }

    public string? Second { get; }

    /// <summary>0 when nothing is secret, the 1-based position of the secret argument, or -1 when the whole line is.</summary>
    public int SecretArgument { get; }

    public static Pop3Command Create(string verb) => new(verb, null, null, 0);

    public static Pop3Command Create(string verb, string argument) => new(verb, argument, null, 0);

    public static Pop3Command Create(string verb, string first, string second) => new(verb, first, second, 0);

    public static Pop3Command CreateSecret(string verb, string secret) => new(verb, secret, null, 1);

    public static Pop3Command CreateWithSecondSecret(string verb, string first, string secret) => new(verb, first, secret, 2);

    /// <summary>A line of an AUTH exchange (a base64 response or <c>*</c>); it may carry a secret, so it is shown masked.</summary>
    public static Pop3Command SaslResponse(string base64) => new(base64, null, null, -1);

    /// <summary>
    /// Refuses, before anything is sent, an argument that would end the command line early or smuggle
    /// a second command in (CR, LF) or that servers written in C would cut short (NUL).
    /// </summary>
    public static void ValidateArgument(string? value, string parameterName)
    {
        ArgumentException.ThrowIfNullOrEmpty(value, parameterName);
        if (value.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
            throw new ArgumentException("A POP3 command argument cannot contain CR, LF or NUL.", parameterName);
    }

    /// <summary>The number of bytes <see cref="Write"/> writes, CRLF included.</summary>
    public int ByteCount =>
        Encoding.ASCII.GetByteCount(Verb)
        + (First is null ? 0 : 1 + Encoding.UTF8.GetByteCount(First))
        + (Second is null ? 0 : 1 + Encoding.UTF8.GetByteCount(Second))
        + 2;

    /// <summary>Writes <c>VERB[ arg1[ arg2]]\r\n</c>; arguments are UTF-8 (RFC 6856 allows it, ASCII is unchanged).</summary>
    public int Write(Span<byte> destination)
    {
        int n = Encoding.ASCII.GetBytes(Verb, destination);
        if (First is not null)
        {
            destination[n++] = (byte)' ';
            n += Encoding.UTF8.GetBytes(First, destination[n..]);
        }

        if (Second is not null)
        {
            destination[n++] = (byte)' ';
            n += Encoding.UTF8.GetBytes(Second, destination[n..]);
        }

        destination[n++] = (byte)'\r';
        destination[n++] = (byte)'\n';
        return n;
    }

    /// <summary>The command as it may be shown: the secret argument, if any, replaced by a mask.</summary>
    public override string ToString()
    {
        if (SecretArgument < 0)
            return Verb == "*" ? "*" : Mask;
        string? first = SecretArgument == 1 ? Mask : First;
        string? second = SecretArgument == 2 ? Mask : Second;
        return first is null ? Verb : second is null ? $"{Verb} {first}" : $"{Verb} {first} {second}";
    }
}
