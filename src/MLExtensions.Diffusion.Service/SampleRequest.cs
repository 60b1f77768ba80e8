namespace MLExtensions.Diffusion.Service;

/// <summary>The body of <c>POST /v1/models/{name}/samples</c>.</summary>
public sealed class SampleRequest
{
    /// <summary>Rows to generate: at least 1, at most <see cref="SamplerServiceOptions.MaxRowsPerRequest"/>. Required.</summary>
    public int? Count { get; set; }

    /// <summary>Seed of the (seed, row) stream (default 0): the same seed gives the same rows, and row i does not depend
    /// on <see cref="Count"/>.</summary>
    public int Seed { get; set; }

    /// <summary>Network evaluations per row on the plan's default grid; null (default) for the plan's own grid. Odd for
    /// Heun (2 steps - 1); at most <see cref="SamplerServiceOptions.MaxNfe"/>.</summary>
    public int? Nfe { get; set; }

    /// <summary>"model" (default): the plan stored in the model file; "default": Heun on the training schedule's default grid.</summary>
    public string? Plan { get; set; }

    /// <summary>"json" or "csv"; when absent the Accept header decides (text/csv gives CSV, anything else JSON).</summary>
    public string? Format { get; set; }
}
