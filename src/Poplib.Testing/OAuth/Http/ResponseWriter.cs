using System.Text;

namespace Poplib.Testing.OAuth.Http;

/// <summary>Writes a response as it is, or as an <see cref="OAuth2Fault"/> bends it.</summary>
internal static class ResponseWriter
{
    public static async Task WriteAsync(Stream stream, HttpResponse response, OAuth2Fault? fault, CancellationToken cancellationToken)
    {
        switch (fault)
        {
            case null:
                await WritePlainAsync(stream, response, cancellationToken).ConfigureAwait(false);
                break;
            case DelayBeforeHeadersFault delay:
                await Task.Delay(delay.Delay, cancellationToken).ConfigureAwait(false);
                await WritePlainAsync(stream, response, cancellationToken).ConfigureAwait(false);
                break;
            case TrickleBodyFault trickle:
                await stream.WriteAsync(response.Head(response.Body.Length), cancellationToken).ConfigureAwait(false);
                for (int i = 0; i < response.Body.Length; i++)
                {
                    await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                    await Task.Delay(trickle.Interval, cancellationToken).ConfigureAwait(false);
                    await stream.WriteAsync(response.Body.AsMemory(i, 1), cancellationToken).ConfigureAwait(false);
                }

                break;
            case GarbageJsonFault:
                await WritePlainAsync(stream, HttpResponse.Json(200, "{\"access_token\": \"at\", \"token_type\": ]]} <!-- not JSON"u8.ToArray()), cancellationToken).ConfigureAwait(false);
                break;
            case HugeJsonBodyFault huge:
                await WriteHugeAsync(stream, huge.Bytes, cancellationToken).ConfigureAwait(false);
                break;
            case RedirectFault redirect:
                await WritePlainAsync(stream, HttpResponse.Redirect(redirect.Status, redirect.Location.AbsoluteUri), cancellationToken).ConfigureAwait(false);
                break;
            case ServerErrorHtmlFault:
                await WritePlainAsync(stream, HttpResponse.Html(500, "<html><head><title>500 Internal Server Error</title></head><body><h1>Internal Server Error</h1></body></html>"), cancellationToken).ConfigureAwait(false);
                break;
            case CloseMidBodyFault:
                await stream.WriteAsync(response.Head(response.Body.Length), cancellationToken).ConfigureAwait(false);
                await stream.WriteAsync(response.Body.AsMemory(0, response.Body.Length / 2), cancellationToken).ConfigureAwait(false);
                break; // the caller closes the connection
            case NeverRespondFault:
                // Silent until the client gives up: its close ends the wait (and frees the connection), as does the server's stop.
                byte[] sink = new byte[512];
                while (await stream.ReadAsync(sink, cancellationToken).ConfigureAwait(false) > 0)
                {
                }

                return;
            default:
                throw new InvalidOperationException($"Unknown fault {fault}.");
        }

        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task WritePlainAsync(Stream stream, HttpResponse response, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(response.Head(response.Body.Length), cancellationToken).ConfigureAwait(false);
        await stream.WriteAsync(response.Body, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A valid JSON token response whose access token is as long as it takes to reach <paramref name="bytes"/>, or never ends.</summary>
    private static async Task WriteHugeAsync(Stream stream, long? bytes, CancellationToken cancellationToken)
    {
        byte[] prefix = "{\"token_type\":\"Bearer\",\"expires_in\":3600,\"access_token\":\""u8.ToArray();
        byte[] suffix = "\"}"u8.ToArray();
        await stream.WriteAsync(HttpResponse.Json(200, []).Head(bytes), cancellationToken).ConfigureAwait(false);
        await stream.WriteAsync(prefix, cancellationToken).ConfigureAwait(false);
        byte[] chunk = Encoding.ASCII.GetBytes(new string('A', 64 * 1024));
        long remaining = bytes is { } total ? total - prefix.Length - suffix.Length : long.MaxValue;
        while (remaining > 0)
        {
            int count = (int)Math.Min(chunk.Length, remaining);
            await stream.WriteAsync(chunk.AsMemory(0, count), cancellationToken).ConfigureAwait(false);
            remaining -= count;
        }

        await stream.WriteAsync(suffix, cancellationToken).ConfigureAwait(false);
    }
}
