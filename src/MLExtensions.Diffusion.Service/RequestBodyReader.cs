using Microsoft.AspNetCore.Http;

namespace MLExtensions.Diffusion.Service;

/// <summary>Reads a request body into memory, refusing one above the size limit before and while reading.</summary>
internal static class RequestBodyReader
{
    /// <summary>The body, or null when it exceeds <paramref name="maxBytes"/> (declared or actual length).</summary>
    public static async Task<byte[]?> ReadAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength is { } declared && declared > maxBytes) return null;
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > maxBytes) return null;
                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return null;
        }
        return buffer.ToArray();
    }
}
