using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;

namespace Poplib.Diagnostics;

/// <summary>
/// Telemetry sources named after the package. <see cref="Listener"/> raises poplib's audit events:
/// <c>poplib.connect</c> before each connection (<see cref="Pop3ConnectEvent"/>) and
/// <c>poplib.putline</c> before each command line is sent (<see cref="Pop3PutLineEvent"/>, secrets masked).
/// <see cref="ActivitySource"/> traces connections and commands.
/// </summary>
public static class Pop3Diagnostics
{
    /// <summary>The name of the <see cref="DiagnosticListener"/> and the <see cref="ActivitySource"/>.</summary>
    public const string SourceName = "Poplib";

    /// <summary>The audit event raised before a connection is made.</summary>
    public const string ConnectEventName = "poplib.connect";

    /// <summary>The audit event raised before a command line is sent.</summary>
    public const string PutLineEventName = "poplib.putline";

    /// <summary>Subscribe through <see cref="DiagnosticListener.AllListeners"/> to receive the audit events.</summary>
    public static DiagnosticListener Listener { get; } = new(SourceName);

    /// <summary>Activities for connections (<c>pop3.connect</c>) and commands (<c>pop3.command</c>).</summary>
    public static ActivitySource ActivitySource { get; } = new(SourceName, typeof(Pop3Diagnostics).Assembly.GetName().Version?.ToString());

    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "The payload types keep their public properties ([DynamicallyAccessedMembers]).")]
    internal static void OnConnect(string host, int port, bool implicitTls)
    {
        if (Listener.IsEnabled(ConnectEventName))
            Listener.Write(ConnectEventName, new Pop3ConnectEvent(host, port, implicitTls));
    }

    /// <summary>Whether anyone listens to <c>poplib.putline</c>.</summary>
    internal static bool WantsPutLine => Listener.IsEnabled(PutLineEventName);

    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "The payload types keep their public properties ([DynamicallyAccessedMembers]).")]
    internal static void OnPutLine(Pop3Client? client, string maskedLine)
    {
        if (Listener.IsEnabled(PutLineEventName))
            Listener.Write(PutLineEventName, new Pop3PutLineEvent(client, maskedLine));
    }
}

/// <summary>Payload of <c>poplib.connect</c>.</summary>
/// <param name="Host">The host name or address being connected to.</param>
/// <param name="Port">The TCP port.</param>
/// <param name="ImplicitTls">Whether TLS starts before the greeting (POP3S).</param>
[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)]
public sealed record Pop3ConnectEvent(string Host, int Port, bool ImplicitTls);

/// <summary>Payload of <c>poplib.putline</c>.</summary>
/// <param name="Client">The client sending the line (null while the client is being created).</param>
/// <param name="Line">The command line without CRLF; passwords and other secrets are replaced by <c>****</c>.</param>
[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)]
public sealed record Pop3PutLineEvent(Pop3Client? Client, string Line);
