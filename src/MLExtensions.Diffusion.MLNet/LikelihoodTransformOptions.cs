using MLExtensions.Diffusion.Likelihood;
using MLExtensions.Diffusion.Onnx;
using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.MLNet;

/// <summary>
/// Settings of <see cref="LikelihoodTransformer"/> (the per-row negative log-likelihood column); checked in one place
/// (<see cref="Validate"/>).
/// </summary>
/// <example>
/// <code>
/// var nll = mlContext.Diffusion().NegativeLogLikelihood(model, new LikelihoodTransformOptions { Steps = 32 });
/// IDataView scored = nll.Transform(data);   // adds a Single column "NLL", nats per row in data units
/// </code>
/// </example>
public sealed class LikelihoodTransformOptions
{
    /// <summary>The default input column name, "Features".</summary>
    public const string DefaultInputColumnName = ScoreMatchingOptions.DefaultFeatureColumnName;

    /// <summary>The default output column name, "NLL".</summary>
    public const string DefaultOutputColumnName = "NLL";

    /// <summary>The input column: a known-size vector of Single with the model's dimension, in data units (default "Features").</summary>
    public string InputColumnName { get; set; } = DefaultInputColumnName;

    /// <summary>The appended Single column: -ln p(y) in nats per row, in data units (default "NLL").</summary>
    public string OutputColumnName { get; set; } = DefaultOutputColumnName;

    /// <summary>How tr(J) is obtained: exact (d Jacobian-vector products per row; default, for small d) or Hutchinson's estimate.</summary>
    public DivergenceEstimator Divergence { get; set; } = DivergenceEstimator.Exact;

    /// <summary>Rademacher probes per row for <see cref="DivergenceEstimator.Hutchinson"/> (default 8; at least 1).</summary>
    public int HutchinsonProbes { get; set; } = 8;

    /// <summary>Seed of the Hutchinson probes (default 0). Batch b of a cursor draws its probes from seed
    /// <c>Seed + 1000003 b</c>, so the column is deterministic for a given <see cref="BatchSize"/>.</summary>
    public int Seed { get; set; }

    /// <summary>Integration steps of the probability-flow ODE, uniform in log-SNR (default 64).</summary>
    public int Steps { get; set; } = 64;

    /// <summary>The one-step method (default <see cref="LikelihoodIntegrator.Heun"/>).</summary>
    public LikelihoodIntegrator Integrator { get; set; } = LikelihoodIntegrator.Heun;

    /// <summary>The data-side start t_min of the integration, or <see langword="null"/> (default) for
    /// <see cref="TimeGrid.DefaultLogSnrEndFraction"/> tau (see <see cref="LikelihoodOptions.TMin"/>).</summary>
    public double? TMin { get; set; }

    /// <summary>Where the network runs (default <see cref="LikelihoodEngine.Compiled"/>, which agrees with
    /// <see cref="LikelihoodEngine.CSharp"/> at the same steps and integrator to float rounding).</summary>
    public LikelihoodEngine Engine { get; set; } = LikelihoodEngine.Compiled;

    /// <summary>For <see cref="LikelihoodEngine.Compiled"/>: <see langword="null"/> (default) for <see cref="Integrator"/> on
    /// the <see cref="Steps"/>-step grid, or a per-row error target in nats for the adaptive integrator (see
    /// <see cref="CompiledLikelihoodOptions.AdaptiveTolerance"/>).</summary>
    public double? AdaptiveTolerance { get; set; }

    /// <summary>Rows per likelihood batch read from a cursor (default 256; in [1, <see cref="MaximumBatchSize"/>], and
    /// BatchSize x d must fit in one array, <see cref="Array.MaxLength"/>). Each batch is one
    /// <see cref="ProbabilityFlowLikelihood"/> call; a cursor allocates for min(BatchSize, the input's row count when known)
    /// rows.</summary>
    public int BatchSize { get; set; } = 256;

    /// <summary>The largest <see cref="BatchSize"/>: 2^24 rows.</summary>
    public const int MaximumBatchSize = 1 << 24;

    /// <summary>ONNX Runtime session settings for <see cref="LikelihoodEngine.Onnx"/> (<see langword="null"/>: defaults).</summary>
    public OnnxSessionSettings? SessionSettings { get; set; }

    /// <summary>Checks every field.</summary>
    /// <exception cref="ArgumentException">A column name is null or blank, or the two names are equal; ParamName names the option.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A number or enum value is out of range; ParamName names the option.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(InputColumnName))
            throw new ArgumentException($"'{nameof(InputColumnName)}' must not be null or blank.", nameof(InputColumnName));
        if (string.IsNullOrWhiteSpace(OutputColumnName))
            throw new ArgumentException($"'{nameof(OutputColumnName)}' must not be null or blank.", nameof(OutputColumnName));
        if (InputColumnName == OutputColumnName)
            throw new ArgumentException($"{nameof(InputColumnName)} and {nameof(OutputColumnName)} must differ, both are '{InputColumnName}'.", nameof(OutputColumnName));
        if (!Enum.IsDefined(Divergence)) throw new ArgumentOutOfRangeException(nameof(Divergence), Divergence, "Unknown divergence estimator.");
        if (!Enum.IsDefined(Integrator)) throw new ArgumentOutOfRangeException(nameof(Integrator), Integrator, "Unknown integrator.");
        if (!Enum.IsDefined(Engine)) throw new ArgumentOutOfRangeException(nameof(Engine), Engine, "Unknown engine.");
        if (HutchinsonProbes <= 0) throw new ArgumentOutOfRangeException(nameof(HutchinsonProbes), HutchinsonProbes, "'HutchinsonProbes' must be positive.");
        if (Steps <= 0) throw new ArgumentOutOfRangeException(nameof(Steps), Steps, "'Steps' must be positive.");
        if (BatchSize <= 0 || BatchSize > MaximumBatchSize)
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, $"'BatchSize' must lie in [1, {nameof(MaximumBatchSize)} = {MaximumBatchSize}].");
        if (AdaptiveTolerance is { } tol && (!double.IsFinite(tol) || tol <= 0))
            throw new ArgumentOutOfRangeException(nameof(AdaptiveTolerance), tol, "'AdaptiveTolerance' must be finite and positive (or null).");
        if (TMin is { } t && (!double.IsFinite(t) || t <= 0))
            throw new ArgumentOutOfRangeException(nameof(TMin), t, "'TMin' must be finite and positive.");
    }

    /// <summary>A copy (the transformer keeps its own).</summary>
    internal LikelihoodTransformOptions Clone() => (LikelihoodTransformOptions)MemberwiseClone();

    /// <summary>The compiled engine's settings (unit-variance default prior, as <see cref="ToLikelihoodOptions"/>).</summary>
    internal CompiledLikelihoodOptions ToCompiledOptions() => new()
    {
        Steps = Steps,
        Integrator = Integrator,
        AdaptiveTolerance = AdaptiveTolerance,
        TMin = TMin,
        Divergence = Divergence,
        HutchinsonProbes = HutchinsonProbes,
    };

    /// <summary>The engine settings of one batch (unit-variance default prior: the diffusion runs in standardised units).</summary>
    internal LikelihoodOptions ToLikelihoodOptions(int seed) => new()
    {
        Steps = Steps,
        Integrator = Integrator,
        TMin = TMin,
        Divergence = Divergence,
        HutchinsonProbes = HutchinsonProbes,
        Seed = seed,
    };
}
