namespace MLExtensions.Diffusion.Service;

/// <summary>
/// One loaded model as the service sees it: an immutable snapshot of a model file, with what <c>GET /v1/models</c> shows
/// and the two computations the service offers. The only implementation, <see cref="ServedModel"/>, is the one place
/// that uses the library's model types.
/// </summary>
internal interface IServedModel : IDisposable
{
    /// <summary>The model's name: its file name without the extension.</summary>
    string Name { get; }

    /// <summary>Features per row.</summary>
    int Dimension { get; }

    /// <summary>The feature column names (stored in the model by <c>mldiffusion train</c>, else f1..fd).</summary>
    IReadOnlyList<string> Columns { get; }

    /// <summary>The model's own sampling plan.</summary>
    ServedPlan Plan { get; }

    /// <summary>The model card stored in the file (Markdown), or null.</summary>
    string? Card { get; }

    /// <summary>The engine and the provider it runs on, e.g. "onnx (Cpu)" or "csharp".</summary>
    string Engine { get; }

    /// <summary>SHA-256 of the model file's bytes (hex), to tell versions of a file apart.</summary>
    string Sha256 { get; }

    /// <summary>The plan a request with <paramref name="nfe"/> and <paramref name="plan"/> runs.</summary>
    /// <exception cref="ArgumentException">The combination cannot be run (ParamName "nfe" or "plan"; the message says why).</exception>
    ServedPlan ResolvePlan(int? nfe, SamplingPlanChoice plan);

    /// <summary>Generates <paramref name="count"/> rows of the (seed, row) stream, yielded in chunks of whole rows (row-major,
    /// Dimension values per row). Row i depends only on (seed, i).</summary>
    /// <exception cref="ArgumentException">As <see cref="ResolvePlan"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired between chunks.</exception>
    IEnumerable<float[]> Generate(int count, int seed, int? nfe, SamplingPlanChoice plan, CancellationToken cancellationToken);

    /// <summary>-ln p(y) per row in nats (data units) of <paramref name="rowCount"/> finite rows.</summary>
    double[] NegativeLogLikelihood(float[] rows, int rowCount, CancellationToken cancellationToken);
}
