using Poplib.Testing.OAuth.Http;

namespace Poplib.Testing.OAuth.Authority;

/// <summary><c>POST /devicecode</c> (RFC 8628 section 3.1): a device code for the client to poll with, a user code for the user to enter.</summary>
internal sealed class DeviceAuthorizationEndpoint(OAuth2Authority authority, OAuth2TestServerOptions options, Func<Uri> verificationUri)
{
    public HttpResponse Handle(HttpRequest request, Dictionary<string, string> form)
    {
        lock (authority.Gate)
        {
            (RegisteredClient? client, HttpResponse? error) = ClientAuthentication.Authenticate(authority, request, form);
            if (client is null)
                return error!;
            string scope = string.Join(' ', form.GetValueOrDefault("scope", "").Split(' ', StringSplitOptions.RemoveEmptyEntries));
            DeviceGrant grant = authority.NewDeviceGrant(client.Id, scope, options.DeviceCodeLifetime, options.DevicePollingInterval);
            return OAuth2Json.DeviceAuthorization(grant, verificationUri(), options.DeviceCodeLifetime);
        }
    }
}
