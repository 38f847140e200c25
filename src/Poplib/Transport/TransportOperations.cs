using System.Net.Security;

namespace Poplib.Transport;

/// <summary>
/// One operation of <see cref="Pop3Transport"/> in its two forms: a blocking call for the sync path
/// (bounded by the socket's timeouts) and a task for the async path (bounded by a token). The timeout
/// and budget handling around it is written once, generic over these structs.
/// </summary>
internal interface ITransportOperation<T>
{
    T Run();

    ValueTask<T> RunAsync(CancellationToken cancellationToken);
}

internal readonly struct Read(Stream stream, Memory<byte> buffer) : ITransportOperation<int>
{
    public int Run() => stream.Read(buffer.Span);

    public ValueTask<int> RunAsync(CancellationToken cancellationToken) => stream.ReadAsync(buffer, cancellationToken);
}

internal readonly struct Write(Stream stream, ReadOnlyMemory<byte> data) : ITransportOperation<int>
{
    public int Run()
    {
        stream.Write(data.Span);
        stream.Flush();
        return data.Length;
    }

    public async ValueTask<int> RunAsync(CancellationToken cancellationToken)
    {
        await stream.WriteAsync(data, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        return data.Length;
    }
}

internal readonly struct Handshake(SslStream ssl, SslClientAuthenticationOptions options) : ITransportOperation<int>
{
    public int Run()
    {
        ssl.AuthenticateAsClient(options);
        return 0;
    }

    public async ValueTask<int> RunAsync(CancellationToken cancellationToken)
    {
        await ssl.AuthenticateAsClientAsync(options, cancellationToken).ConfigureAwait(false);
        return 0;
    }
}
