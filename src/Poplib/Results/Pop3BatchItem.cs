using System.Diagnostics.CodeAnalysis;

namespace Poplib;

/// <summary>The outcome of one command of a pipelined batch (for example one DELE of <see cref="Pop3Client.DeleMany"/>).</summary>
public class Pop3BatchItem
{
    internal Pop3BatchItem(int number, Pop3Response response, string verb)
    {
        Number = number;
        Response = response;
        Error = response.IsOk ? null : new Pop3CommandException(verb, response);
    }

    /// <summary>The message number the command was about.</summary>
    public int Number { get; }

    /// <summary>The server's reply.</summary>
    public Pop3Response Response { get; }

    /// <summary>Whether the server answered <c>+OK</c>; when not, <see cref="Error"/> holds the <c>-ERR</c> (the compiler knows it: no <c>!</c> needed).</summary>
    [MemberNotNullWhen(false, nameof(Error))]
    public bool IsOk => Error is null;

    /// <summary>The <c>-ERR</c> as an exception, ready to throw or log; <see langword="null"/> on success.</summary>
    public Pop3CommandException? Error { get; }
}

/// <summary>
/// One message of a pipelined RETR or TOP batch. <see cref="Content"/> streams the message as it
/// arrives and is valid only until the batch moves on to the next message (whatever is left unread
/// is skipped then).
/// </summary>
public sealed class Pop3BatchMessage : Pop3BatchItem
{
    private readonly Pop3MessageStream? _content;

    internal Pop3BatchMessage(int number, Pop3Response response, string verb, Pop3MessageStream? content)
        : base(number, response, verb) => _content = content;

    /// <summary>
    /// For TOP: whether the server sent more than the header and the lines asked for, which
    /// <see cref="Content"/> did not return (see <see cref="Pop3Message.ExcessDiscarded"/>). Final once
    /// <see cref="Content"/> has been read to its end.
    /// </summary>
    public bool ExcessDiscarded => _content?.ExcessDiscarded ?? false;

    /// <summary>The message, dot-unstuffed, line endings as received.</summary>
    /// <exception cref="Pop3CommandException">The server answered this message's command with <c>-ERR</c>.</exception>
    public Stream Content => _content ?? throw Error!;
}
