using Poplib.Tests.Infrastructure;
using Poplib.Tests.Interop.Lab;

namespace Poplib.Tests.Interop.Servers;

/// <summary>The interop suite against the lab's Cyrus pop3d (see <see cref="RealServer.Cyrus"/>), and its own quirks.</summary>
[InteropServer("cyrus")]
public sealed class CyrusInteropTests : InteropSuite
{
    [InteropTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Expire_never_and_login_delay_0_are_read_from_capa(bool async)
    {
        using Pop3Client client = await ConnectAsync(async, Link.Plain);
        Assert.Equal(new Pop3ExpirePolicy(Never: true, Days: 0, PerUser: false), client.Capabilities.Expire);
        Assert.Equal(TimeSpan.Zero, client.Capabilities.LoginDelay);
        Assert.StartsWith("Cyrus POP3 ", client.Capabilities.Implementation, StringComparison.Ordinal);
    }
}
