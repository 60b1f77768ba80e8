using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace MLExtensions.Diffusion.Service;

/// <summary>
/// <c>POST /v1/models/{name}/likelihood</c>: scores rows (<see cref="LikelihoodRequest"/>) by their negative
/// log-likelihood under the model (<see cref="LikelihoodResponse"/>). Every cell must be a finite JSON number: a null,
/// a string (such as "NaN"), a value beyond float range or a row of the wrong length is a 400 naming the row and column;
/// nothing is dropped or filled in.
/// </summary>
internal static class LikelihoodEndpoint
{
    public static async Task HandleAsync(HttpContext context, string name, ModelRegistry registry, SamplerServiceOptions options,
        ServiceMetrics metrics, ServiceTestHooks hooks)
    {
        var ct = context.RequestAborted;
        var body = await RequestBodyReader.ReadOrRefuseAsync(context, options, metrics);
        if (body is null) return;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            await Problems.Validation("body", $"The body is not valid JSON: {RequestJson.Message(e)}.").ExecuteAsync(context);
            return;
        }
        using (document)
        {
            using var lease = registry.Acquire(name);
            if (lease is null)
            {
                await SamplesEndpoint.UnknownModel(name, registry).ExecuteAsync(context);
                return;
            }
            var model = lease.Model;
            var parsed = ReadRows(document.RootElement, model, options);
            if (parsed.Error is { } error)
            {
                if (error.Field == "rows" && parsed.OverLimit) metrics.RequestsRefused.WithLabels("rows_over_limit").Inc();
                await Problems.Validation(error.Field, error.Message).ExecuteAsync(context);
                return;
            }
            await hooks.BeforeWorkAsync("likelihood", ct);
            double[] nll = model.NegativeLogLikelihood(parsed.Values!, parsed.RowCount, ct);
            metrics.RowsScored.WithLabels(model.Name).Inc(nll.Length);
            await Results.Json(new LikelihoodResponse(model.Name, model.Sha256, nll.Length, nll, nll.Average())).ExecuteAsync(context);
        }
    }

    /// <summary>The rows as one row-major float buffer, or the first problem found.</summary>
    internal static (float[]? Values, int RowCount, (string Field, string Message)? Error, bool OverLimit) ReadRows(JsonElement root, IServedModel model, SamplerServiceOptions options)
    {
        if (root.ValueKind != JsonValueKind.Object)
            return (null, 0, ("body", $"The body must be a JSON object {{\"rows\": [[...], ...]}}, not {root.ValueKind}."), false);
        JsonElement rows = default;
        bool found = false;
        foreach (var property in root.EnumerateObject())
        {
            if (!string.Equals(property.Name, "rows", StringComparison.OrdinalIgnoreCase))
                return (null, 0, (property.Name, $"Unknown field '{property.Name}'; the body has one field, 'rows'."), false);
            rows = property.Value;
            found = true;
        }
        if (!found) return (null, 0, ("rows", "'rows' is required: an array of rows, each an array of the model's columns."), false);
        if (rows.ValueKind != JsonValueKind.Array) return (null, 0, ("rows", $"'rows' must be an array of rows, not {rows.ValueKind}."), false);
        int count = rows.GetArrayLength(), d = model.Dimension;
        if (count == 0) return (null, 0, ("rows", "'rows' is empty; send at least one row."), false);
        if (count > options.MaxLikelihoodRowsPerRequest)
            return (null, 0, ("rows", $"'rows' holds {count} rows, above the limit of {options.MaxLikelihoodRowsPerRequest} per request (MaxLikelihoodRowsPerRequest)."), true);
        var values = new float[count * d];
        int i = 0;
        foreach (var row in rows.EnumerateArray())
        {
            string rowField = $"rows[{i}]";
            if (row.ValueKind != JsonValueKind.Array)
                return (null, 0, (rowField, $"Row {i} must be an array of {d} numbers, not {row.ValueKind}."), false);
            int length = row.GetArrayLength();
            if (length != d)
                return (null, 0, (rowField, $"Row {i} has {length} values, but model '{model.Name}' has {d} columns ({string.Join(", ", model.Columns)})."), false);
            int j = 0;
            foreach (var cell in row.EnumerateArray())
            {
                string field = $"rows[{i}][{j}]", column = model.Columns[j];
                if (cell.ValueKind == JsonValueKind.Null)
                    return (null, 0, (field, $"Row {i}, column '{column}' is missing (null); every cell must be a finite number."), false);
                if (cell.ValueKind != JsonValueKind.Number)
                    return (null, 0, (field, $"Row {i}, column '{column}' is a {cell.ValueKind}, not a number ({cell.GetRawText()}); every cell must be a finite number."), false);
                float value = cell.TryGetDouble(out double number) ? (float)number : float.NaN;
                if (!float.IsFinite(value))
                    return (null, 0, (field, $"Row {i}, column '{column}' = {cell.GetRawText()} is not a finite single-precision number."), false);
                values[i * d + j] = value;
                j++;
            }
            i++;
        }
        return (values, count, null, false);
    }
}
