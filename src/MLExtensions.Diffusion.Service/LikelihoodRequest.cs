namespace MLExtensions.Diffusion.Service;

/// <summary>The body of <c>POST /v1/models/{name}/likelihood</c>: rows in data units, one array of the model's columns
/// per row. A missing (null) or non-finite cell is rejected with 400 naming its row and column.</summary>
public sealed class LikelihoodRequest
{
    /// <summary>The rows, each with one number per model column, in the order of the model's <c>columns</c>.</summary>
    public double?[][] Rows { get; set; } = [];
}
