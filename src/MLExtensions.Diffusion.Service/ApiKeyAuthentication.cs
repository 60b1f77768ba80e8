using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace MLExtensions.Diffusion.Service;

/// <summary>
/// The optional API-key check: with keys configured, every request except <c>GET /healthz</c> must carry one of them in
/// the <see cref="HeaderName"/> header, else 401 (problem details; the key is never logged or echoed). Keys are compared
/// as SHA-256 digests with <see cref="CryptographicOperations.FixedTimeEquals"/>, every configured key every time, so the
/// time taken does not tell how much of a key matched or which key it was.
/// </summary>
internal sealed class ApiKeyAuthentication
{
    /// <summary>The header, "X-Api-Key".</summary>
    public const string HeaderName = "X-Api-Key";

    private readonly byte[][] _digests;

    public ApiKeyAuthentication(IEnumerable<string> keys) => _digests = keys.Select(Digest).ToArray();

    /// <summary>Whether any key is configured.</summary>
    public bool Enabled => _digests.Length > 0;

    /// <summary>Whether <paramref name="presented"/> is one of the keys (constant time in the key's content).</summary>
    public bool IsValid(string presented)
    {
        var digest = Digest(presented);
        bool match = false;
        foreach (var known in _digests) match |= CryptographicOperations.FixedTimeEquals(digest, known);
        return match;
    }

    /// <summary>The middleware: 401 without a valid key, except for the health probe.</summary>
    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (!Enabled || context.Request.Path.StartsWithSegments("/healthz"))
        {
            await next(context);
            return;
        }
        string? reason = null;
        if (!context.Request.Headers.TryGetValue(HeaderName, out var values) || values.Count == 0 || string.IsNullOrEmpty(values[0]))
            reason = $"The request has no '{HeaderName}' header; this service requires an API key.";
        else if (values.Count > 1 || !IsValid(values[0]!))
            reason = $"The '{HeaderName}' header does not hold a valid API key.";
        if (reason is null)
        {
            await next(context);
            return;
        }
        context.RequestServices.GetService<ServiceMetrics>()?.RequestsRefused.WithLabels("unauthorized").Inc();
        context.Response.Headers.WWWAuthenticate = "ApiKey header=\"" + HeaderName + "\"";
        await Problems.Write(context, (int)HttpStatusCode.Unauthorized, "Unauthorized", reason);
    }

    private static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
