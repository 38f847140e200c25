using Poplib.Diagnostics;

namespace Poplib;

/// <summary>
/// The server answered a command with <c>-ERR</c>. The connection is still usable: the caller may
/// retry, try another command or quit. <see cref="Response"/> carries the server's text and any
/// RFC 2449 response code such as <c>[IN-USE]</c> or <c>[AUTH]</c>. <see cref="Exception.Message"/>
/// quotes that text with control characters and invisible or bidi formatting characters escaped
/// (<c>\x1B</c>, <c>\u202E</c>), so it is safe to print; <see cref="ResponseText"/> holds it as sent.
/// </summary>
public class Pop3CommandException : Pop3Exception
{
    /// <summary>Creates the exception for a command and the server's <c>-ERR</c> reply.</summary>
    public Pop3CommandException(string command, Pop3Response response)
        : base(FormatMessage(command, response))
    {
        ArgumentNullException.ThrowIfNull(response);
        Command = command;
        Response = response;
    }

    /// <summary>The command verb that failed, for example <c>RETR</c> (arguments are not kept: they may be secret).</summary>
    public string Command { get; }

    /// <summary>The server's reply.</summary>
    public Pop3Response Response { get; }

    /// <summary>The RFC 2449 / RFC 3206 response code of the reply, or <see cref="Pop3ResponseCode.None"/>.</summary>
    public Pop3ResponseCode ResponseCode => Response.Code;

    /// <summary>The server's text after <c>-ERR</c> (including any <c>[CODE]</c>), raw: escape it before printing it to a terminal.</summary>
    public string ResponseText => Response.Text;

    /// <summary>
    /// More about the failure when the server gave it elsewhere than the <c>-ERR</c> line: for OAuth
    /// mechanisms, the JSON error document of RFC 7628 (status, scope, openid-configuration).
    /// </summary>
    public string? Details { get; init; }

    private static string FormatMessage(string command, Pop3Response response) =>
        response.Text.Length == 0
            ? $"The POP3 server rejected {command} (-ERR)."
            : $"The POP3 server rejected {command}: {ServerText.Escape(response.Text)}";
}
