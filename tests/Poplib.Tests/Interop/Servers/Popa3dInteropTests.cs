using Poplib.Tests.Interop.Lab;

namespace Poplib.Tests.Interop.Servers;

/// <summary>The interop suite against the lab's popa3d (see <see cref="RealServer.Popa3d"/>).</summary>
[InteropServer("popa3d")]
public sealed class Popa3dInteropTests : InteropSuite;
