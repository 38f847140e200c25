using Poplib.Tests.Interop.Lab;

namespace Poplib.Tests.Interop.Servers;

/// <summary>The interop suite against the lab's dovecot (see <see cref="RealServer.Dovecot"/>).</summary>
[InteropServer("dovecot")]
public sealed class DovecotInteropTests : InteropSuite;
