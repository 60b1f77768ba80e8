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

    /// <summary>The body, or null after answering 413 (problem details naming <c>MaxRequestBodyBytes</c>) and counting the
    /// refusal, when it exceeds the limit: the one place both POST endpoints read their bodies.</summary>
    public static async Task<byte[]?> ReadOrRefuseAsync(HttpContext context, SamplerServiceOptions options, ServiceMetrics metrics)
    {
        var body = await ReadAsync(context.Request, options.MaxRequestBodyBytes, context.RequestAborted);
        if (body is not null) return body;
        metrics.RequestsRefused.WithLabels("body_too_large").Inc();
        await Problems.Result(StatusCodes.Status413PayloadTooLarge, "Request body too large",
            $"The request body exceeds the limit of {options.MaxRequestBodyBytes} bytes (MaxRequestBodyBytes).").ExecuteAsync(context);
        return null;
    }
}
