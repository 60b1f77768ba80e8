using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace MLExtensions.Diffusion.Service;

/// <summary>RFC 7807 problem details (<c>application/problem+json</c>): the service's only error format. A validation
/// problem names the offending field in <c>errors</c> (field name to messages) and in the <c>field</c> extension.</summary>
internal static class Problems
{
    /// <summary>A problem with a status, title and detail.</summary>
    public static IResult Result(int status, string title, string detail) =>
        Results.Problem(detail: detail, statusCode: status, title: title);

    /// <summary>400 naming <paramref name="field"/>.</summary>
    public static IResult Validation(string field, string message) =>
        Results.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, detail: message, title: "Invalid request",
            extensions: new Dictionary<string, object?> { ["field"] = field });

    /// <summary>Writes a problem straight to the response (middleware, limiter callbacks).</summary>
    public static Task Write(HttpContext context, int status, string title, string detail)
    {
        context.Response.StatusCode = status;
        var problem = new ProblemDetails { Status = status, Title = title, Detail = detail, Instance = context.Request.Path };
        return Results.Problem(problem).ExecuteAsync(context);
    }
}
