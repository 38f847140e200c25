namespace Poplib.Fetch.OAuth;

/// <summary>What the user must do to finish a device sign-in (RFC 8628 section 3.2): open <see cref="VerificationUri"/> and enter <see cref="UserCode"/>.</summary>
/// <param name="UserCode">The code to type in.</param>
/// <param name="VerificationUri">Where to type it.</param>
/// <param name="VerificationUriComplete">A URL with the code in it, when the server gives one.</param>
/// <param name="ExpiresAt">When the code stops working.</param>
/// <param name="Message">The server's own instructions, when it gives them (Microsoft does).</param>
public sealed record OAuth2DeviceCode(string UserCode, Uri VerificationUri, Uri? VerificationUriComplete, DateTimeOffset ExpiresAt, string? Message);
