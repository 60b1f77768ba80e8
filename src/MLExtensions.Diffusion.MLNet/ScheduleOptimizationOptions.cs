namespace MLExtensions.Diffusion.MLNet;

/// <summary>
/// Options of <see cref="ScheduleOptimizationEstimator"/> (<c>mlContext.Diffusion().OptimizeSchedule(model, options)</c>):
/// the NFE budget, the candidates and the sample sizes of selection and reporting.
/// </summary>
/// <example>
/// <code>
/// var options = new ScheduleOptimizationOptions { Nfe = 7, Seed = 1 };
/// var result = mlContext.Diffusion().OptimizeSchedule(model, options).Optimize(trainingRows);
/// Console.WriteLine(result.Report);              // candidates, chosen plan, error before and after, c2, efficiency
/// result.Model.Save("model-nfe7.zip");           // the same network with the optimised plan
/// </code>
/// </example>
public sealed class ScheduleOptimizationOptions
{
    /// <summary>The data column: a known-size float vector of the model's dimension (default "Features").</summary>
    public string FeatureColumnName { get; set; } = ScoreMatchingOptions.DefaultFeatureColumnName;

    /// <summary>The budget: network evaluations per generated row (default 9). Heun plans use (Nfe + 1) / 2 steps.</summary>
    public int Nfe { get; set; } = 9;

    /// <summary>The solvers tried (default all four).</summary>
    public GenerateSamplerKind[] Samplers { get; set; } =
        [GenerateSamplerKind.Heun, GenerateSamplerKind.Euler, GenerateSamplerKind.Ddim, GenerateSamplerKind.DpmSolverPlusPlus2M];

    /// <summary>The grids tried (default all kinds, dynamic programming included).</summary>
    public SamplingGridKind[] Grids { get; set; } =
        [SamplingGridKind.EdmRho, SamplingGridKind.UniformLogSnr, SamplingGridKind.UniformTime, SamplingGridKind.UniformAngle, SamplingGridKind.EqualLength,
            SamplingGridKind.DynamicProgramming];

    /// <summary>Whether to fit the least-kinetic-cost Gaussian path with the model's denoiser
    /// (<see cref="Thermodynamics.GaussianPathGeodesic"/>) and try it (default true). The training schedule and the Gaussian-OT
    /// schedule of the data's isotropic moments are always tried.</summary>
    public bool FitTransportPath { get; set; } = true;

    /// <summary>The path metric behind kinetic costs, equal-length grids and the fitted path (default
    /// <see cref="PathMetricSource.Denoiser"/>).</summary>
    public PathMetricSource PathMetric { get; set; } = PathMetricSource.Denoiser;

    /// <summary>Candidate noise levels of the dynamic-programming grids, geometric from the top of the trained range to
    /// <see cref="BottomLevel"/> (default 40).</summary>
    public int CandidateLevels { get; set; } = 40;

    /// <summary>The last positive noise level of the EDM-rho and log-SNR grids and of the candidates (default 0.002).</summary>
    public double BottomLevel { get; set; } = 0.002;

    /// <summary>Latent rows every candidate is measured on to choose the plan (default 1024).</summary>
    public int SelectionRows { get; set; } = 1024;

    /// <summary>Latent rows (other latents) the chosen plan, the model's plan before and the default plan at the same
    /// budget are measured on for the report (default 4096; the docs' benchmark uses 10 000).</summary>
    public int ReportRows { get; set; } = 4096;

    /// <summary>Heun steps of the converged reference (default 1000).</summary>
    public int ReferenceSteps { get; set; } = 1000;

    /// <summary>Rows the dynamic-programming step errors are measured on (default 512).</summary>
    public int OptimizerRows { get; set; } = 512;

    /// <summary>(data row, noise) pairs of the Monte Carlo path metric (kinetic cost, equal-length grids, fitted path; default 1024).</summary>
    public int PathMetricSamples { get; set; } = 1024;

    /// <summary>What the selection minimises (default <see cref="PlanSelectionCriterion.Rms"/>).</summary>
    public PlanSelectionCriterion Criterion { get; set; } = PlanSelectionCriterion.Rms;

    /// <summary>Seed of every random choice (latents, data split, metric pairs): same seed, same result (default 0).</summary>
    public int Seed { get; set; }

    /// <summary>Rows with a missing (NaN) or infinite feature: an error (default) or dropped.</summary>
    public MissingValueHandling MissingValueHandling { get; set; } = MissingValueHandling.Error;

    /// <summary>Receives the stage and how many of its items are done; null for none.</summary>
    public IProgress<ScheduleOptimizationProgress>? Progress { get; set; }

    /// <summary>Cancels the optimisation between candidates and blocks of rows.</summary>
    public CancellationToken CancellationToken { get; set; }

    /// <summary>A copy of these options (arrays copied).</summary>
    /// <returns>The copy.</returns>
    public ScheduleOptimizationOptions Clone()
    {
        var copy = (ScheduleOptimizationOptions)MemberwiseClone();
        copy.Samplers = (GenerateSamplerKind[])Samplers.Clone();
        copy.Grids = (SamplingGridKind[])Grids.Clone();
        return copy;
    }

    /// <summary>Checks every option; the exception's ParamName is the option's name.</summary>
    /// <exception cref="ArgumentException">The column name is blank, or <see cref="Samplers"/> or <see cref="Grids"/> is null
    /// or empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A number is out of range (e.g. <see cref="Nfe"/> 0) or an enum value is not
    /// defined.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(FeatureColumnName)) throw new ArgumentException($"'{nameof(FeatureColumnName)}' must name a column.", nameof(FeatureColumnName));
        if (Nfe < 1) throw new ArgumentOutOfRangeException(nameof(Nfe), Nfe, "The NFE budget must be at least 1 network evaluation per row.");
        if (Samplers is null || Samplers.Length == 0) throw new ArgumentException($"'{nameof(Samplers)}' must name at least one solver.", nameof(Samplers));
        foreach (var s in Samplers)
            if (!Enum.IsDefined(s)) throw new ArgumentOutOfRangeException(nameof(Samplers), s, "Unknown sampler.");
        if (Grids is null || Grids.Length == 0) throw new ArgumentException($"'{nameof(Grids)}' must name at least one grid kind.", nameof(Grids));
        foreach (var g in Grids)
            if (!Enum.IsDefined(g)) throw new ArgumentOutOfRangeException(nameof(Grids), g, "Unknown grid kind.");
        if (CandidateLevels < 2) throw new ArgumentOutOfRangeException(nameof(CandidateLevels), CandidateLevels, "At least 2 candidate levels are needed.");
        if (!(double.IsFinite(BottomLevel) && BottomLevel > 0)) throw new ArgumentOutOfRangeException(nameof(BottomLevel), BottomLevel, "Must be finite and positive.");
        if (SelectionRows < 2) throw new ArgumentOutOfRangeException(nameof(SelectionRows), SelectionRows, "At least 2 rows are needed.");
        if (ReportRows < 2) throw new ArgumentOutOfRangeException(nameof(ReportRows), ReportRows, "At least 2 rows are needed.");
        if (ReferenceSteps < 100) throw new ArgumentOutOfRangeException(nameof(ReferenceSteps), ReferenceSteps, "The reference needs at least 100 Heun steps.");
        if (OptimizerRows < 2) throw new ArgumentOutOfRangeException(nameof(OptimizerRows), OptimizerRows, "At least 2 rows are needed.");
        if (PathMetricSamples < 2) throw new ArgumentOutOfRangeException(nameof(PathMetricSamples), PathMetricSamples, "At least 2 pairs are needed.");
        if (!Enum.IsDefined(PathMetric)) throw new ArgumentOutOfRangeException(nameof(PathMetric), PathMetric, "Unknown path metric source.");
        if (!Enum.IsDefined(Criterion)) throw new ArgumentOutOfRangeException(nameof(Criterion), Criterion, "Unknown criterion.");
        if (!Enum.IsDefined(MissingValueHandling)) throw new ArgumentOutOfRangeException(nameof(MissingValueHandling), MissingValueHandling, "Unknown handling.");
    }
}
