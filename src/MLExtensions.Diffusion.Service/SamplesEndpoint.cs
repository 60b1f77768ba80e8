using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.Net.Http.Headers;

namespace MLExtensions.Diffusion.Service;

/// <summary>
/// <c>POST /v1/models/{name}/samples</c>: generates rows of the (seed, row) stream and streams them as JSON
/// (<see cref="SampleResponse"/>, rows last) or CSV (a header of the column names, one line per row), chosen by the
/// <c>format</c> field or else the Accept header. Rows are written in chunks of 4096 as they are generated, so memory
/// stays bounded for any allowed count. The first chunk is computed before the status line is sent, so errors that can be
/// known at all are problem details; a failure later (or the request timeout) aborts the connection rather than ending a
/// truncated body normally.
/// </summary>
internal static class SamplesEndpoint
{
    public static async Task HandleAsync(HttpContext context, string name, ModelRegistry registry, SamplerServiceOptions options,
        ServiceMetrics metrics, ServiceTestHooks hooks)
    {
        var ct = context.RequestAborted;
        var body = await RequestBodyReader.ReadOrRefuseAsync(context, options, metrics);
        if (body is null) return;
        SampleRequest? request;
        try
        {
            request = JsonSerializer.Deserialize<SampleRequest>(body, RequestJson.Options);
        }
        catch (JsonException e)
        {
            await Problems.Validation(RequestJson.FieldOf(e.Path), $"The body is not a valid samples request: {RequestJson.Message(e)}.").ExecuteAsync(context);
            return;
        }
        if (request is null)
        {
            await Problems.Validation("body", "The body must be a JSON object such as {\"count\": 100, \"seed\": 1}.").ExecuteAsync(context);
            return;
        }
        if (Check(request, options) is { } invalid)
        {
            if (invalid.Field == "count" && request.Count > options.MaxRowsPerRequest) metrics.RequestsRefused.WithLabels("rows_over_limit").Inc();
            await Problems.Validation(invalid.Field, invalid.Message).ExecuteAsync(context);
            return;
        }
        var choice = string.Equals(request.Plan, "default", StringComparison.OrdinalIgnoreCase) ? SamplingPlanChoice.Default : SamplingPlanChoice.Model;
        bool csv;
        if (request.Format is { } format) csv = string.Equals(format, "csv", StringComparison.OrdinalIgnoreCase);
        else if (Negotiate(context.Request) is { } negotiated) csv = negotiated;
        else
        {
            await Problems.Result(StatusCodes.Status406NotAcceptable, "Not acceptable",
                "The Accept header allows neither application/json nor text/csv; send one of them or set the 'format' field.").ExecuteAsync(context);
            return;
        }

        using var lease = registry.Acquire(name);
        if (lease is null)
        {
            await UnknownModel(name, registry).ExecuteAsync(context);
            return;
        }
        var model = lease.Model;
        int count = request.Count!.Value;
        ServedPlan plan;
        try
        {
            plan = model.ResolvePlan(request.Nfe, choice);
        }
        catch (ArgumentException e)
        {
            await Problems.Validation(e.ParamName ?? "nfe", StripParameter(e)).ExecuteAsync(context);
            return;
        }
        await hooks.BeforeWorkAsync("samples", ct);

        using var chunks = model.Generate(count, request.Seed, request.Nfe, choice, ct).GetEnumerator();
        if (!chunks.MoveNext()) throw new InvalidOperationException("The generator returned no rows.");
        CheckFinite(chunks.Current, model);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.Headers["X-Model-Sha256"] = model.Sha256;
        try
        {
            if (csv) await WriteCsvAsync(context, model, chunks, metrics, ct);
            else await WriteJsonAsync(context, model, plan, count, request.Seed, chunks, metrics, ct);
        }
        catch (Exception e) when (context.Response.HasStarted && e is OperationCanceledException or InvalidOperationException or IOException)
        {
            // The status line is sent: abort so that the client sees a broken response, never a short one that looks complete.
            if (context.Features.Get<IHttpRequestTimeoutFeature>()?.RequestTimeoutToken.IsCancellationRequested == true)
                metrics.RequestsRefused.WithLabels("timeout").Inc();
            context.Abort();
        }
    }

    /// <summary>The first invalid field of <paramref name="request"/> and why, or null.</summary>
    internal static (string Field, string Message)? Check(SampleRequest request, SamplerServiceOptions options)
    {
        if (request.Count is not { } count) return ("count", "'count' is required: the number of rows to generate.");
        if (count < 1) return ("count", $"'count' = {count} must be at least 1.");
        if (count > options.MaxRowsPerRequest)
            return ("count", $"'count' = {count} exceeds the limit of {options.MaxRowsPerRequest} rows per request (MaxRowsPerRequest); split the request by seed.");
        if (request.Nfe is { } nfe && (nfe < 1 || nfe > options.MaxNfe))
            return ("nfe", $"'nfe' = {nfe} must lie in [1, {options.MaxNfe}] (MaxNfe).");
        if (request.Plan is { } plan && !string.Equals(plan, "model", StringComparison.OrdinalIgnoreCase) && !string.Equals(plan, "default", StringComparison.OrdinalIgnoreCase))
            return ("plan", $"'plan' = '{plan}' is not one of 'model' (the model's stored plan) or 'default'.");
        if (request.Format is { } format && !string.Equals(format, "json", StringComparison.OrdinalIgnoreCase) && !string.Equals(format, "csv", StringComparison.OrdinalIgnoreCase))
            return ("format", $"'format' = '{format}' is not one of 'json' or 'csv'.");
        return null;
    }

    /// <summary>CSV (true), JSON (false) or neither (null) from the Accept header, by quality then order; no header means JSON.</summary>
    internal static bool? Negotiate(HttpRequest request)
    {
        var accept = request.GetTypedHeaders().Accept;
        if (accept is null || accept.Count == 0) return false;
        foreach (var media in accept.OrderByDescending(m => m.Quality ?? 1.0))
        {
            if (media.Quality == 0) continue;
            var type = media.MediaType.Value ?? "";
            if (type.Equals("text/csv", StringComparison.OrdinalIgnoreCase)) return true;
            if (type.Equals("application/json", StringComparison.OrdinalIgnoreCase) || type == "*/*" || type.Equals("application/*", StringComparison.OrdinalIgnoreCase)
                || type.Equals("application/problem+json", StringComparison.OrdinalIgnoreCase)) return false;
            if (type.Equals("text/*", StringComparison.OrdinalIgnoreCase)) return true;
        }
        return null;
    }

    internal static IResult UnknownModel(string name, ModelRegistry registry)
    {
        var names = registry.Names;
        return Problems.Result(StatusCodes.Status404NotFound, "Unknown model",
            $"No model named '{name}' is served; the models are: {(names.Count == 0 ? "(none)" : string.Join(", ", names))}.");
    }

    internal static string StripParameter(ArgumentException e)
    {
        string message = e.Message;
        int cut = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }

    private static void CheckFinite(float[] chunk, IServedModel model)
    {
        for (int i = 0; i < chunk.Length; i++)
            if (!float.IsFinite(chunk[i]))
                throw new InvalidOperationException($"Model '{model.Name}' generated a non-finite value in column '{model.Columns[i % model.Dimension]}'.");
    }

    private static async Task WriteJsonAsync(HttpContext context, IServedModel model, ServedPlan plan, int count, int seed,
        IEnumerator<float[]> chunks, ServiceMetrics metrics, CancellationToken ct)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        int d = model.Dimension;
        await using var writer = new Utf8JsonWriter(context.Response.Body);
        writer.WriteStartObject();
        writer.WriteString("model", model.Name);
        writer.WriteString("sha256", model.Sha256);
        writer.WriteStartArray("columns");
        foreach (var c in model.Columns) writer.WriteStringValue(c);
        writer.WriteEndArray();
        writer.WriteNumber("count", count);
        writer.WriteNumber("seed", seed);
        writer.WriteStartObject("plan");
        writer.WriteString("sampler", plan.Sampler);
        writer.WriteNumber("steps", plan.Steps);
        writer.WriteNumber("nfe", plan.Nfe);
        writer.WriteString("description", plan.Description);
        writer.WriteEndObject();
        writer.WriteStartArray("rows");
        do
        {
            var chunk = chunks.Current;
            CheckFinite(chunk, model);
            for (int r = 0; r < chunk.Length / d; r++)
            {
                writer.WriteStartArray();
                for (int j = 0; j < d; j++) writer.WriteNumberValue(chunk[r * d + j]);
                writer.WriteEndArray();
            }
            await writer.FlushAsync(ct);
            metrics.RowsGenerated.WithLabels(model.Name).Inc(chunk.Length / d);
        }
        while (chunks.MoveNext());
        writer.WriteEndArray();
        writer.WriteEndObject();
        await writer.FlushAsync(ct);
    }

    private static async Task WriteCsvAsync(HttpContext context, IServedModel model, IEnumerator<float[]> chunks, ServiceMetrics metrics, CancellationToken ct)
    {
        context.Response.ContentType = "text/csv; charset=utf-8";
        int d = model.Dimension;
        var text = new StringBuilder();
        text.Append(string.Join(",", model.Columns.Select(Quote))).Append('\n');
        do
        {
            var chunk = chunks.Current;
            CheckFinite(chunk, model);
            for (int r = 0; r < chunk.Length / d; r++)
            {
                for (int j = 0; j < d; j++)
                {
                    if (j > 0) text.Append(',');
                    text.Append(chunk[r * d + j].ToString("R", CultureInfo.InvariantCulture));
                }
                text.Append('\n');
            }
            await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(text.ToString()), ct);
            await context.Response.Body.FlushAsync(ct);
            text.Clear();
            metrics.RowsGenerated.WithLabels(model.Name).Inc(chunk.Length / d);
        }
        while (chunks.MoveNext());
    }

    private static string Quote(string s) => s.Contains(',') || s.Contains('"') || s.Contains('\n') ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
}
