using MLExtensions.Diffusion.Samplers;

namespace MLExtensions.Diffusion.MLNet;

/// <summary>Settings of <see cref="EvaluationCatalogExtensions.Evaluate"/>; checked in one place (<see cref="Validate"/>).</summary>
public sealed class EvaluationOptions
{
    /// <summary>The held-out feature column: a known-size vector of Single of the model's dimension, data units (default "Features").</summary>
    public string FeatureColumnName { get; set; } = ScoreMatchingOptions.DefaultFeatureColumnName;

    /// <summary>What to do with held-out rows holding NaN or an infinite value: <see cref="MissingValueHandling.Error"/>
    /// (default; the exception names the row and slot) or <see cref="MissingValueHandling.DropRows"/> (they are skipped;
    /// <see cref="DiffusionMetrics.HeldOutRows"/> counts the rows kept).</summary>
    public MissingValueHandling MissingValueHandling { get; set; } = MissingValueHandling.Error;

    /// <summary>Rows to generate for the sample metrics; <see langword="null"/> (default) means as many as held-out rows.</summary>
    public int? GeneratedRows { get; set; }

    /// <summary>Seed of everything random (generation latents, projections, Monte Carlo pairs); default 0.</summary>
    public int Seed { get; set; }

    /// <summary>Random directions of the sliced W2 (default 256).</summary>
    public int Projections { get; set; } = 256;

    /// <summary>The largest number of rows per side in the exact (assignment) W2 (default 2000): the first
    /// min(held-out, generated, this) rows of each set are matched.</summary>
    public int MaxExactW2Rows { get; set; } = 2000;

    /// <summary>The generating solver; null (the default) for the model's <see cref="DiffusionModelParameters.SamplingPlan"/> solver.</summary>
    public ISampler? Sampler { get; set; }

    /// <summary>Solver steps of the generation on the default grid (<see cref="DiffusionModelParameters.SamplingTimes"/>); null (the
    /// default) for the plan's grid.</summary>
    public int? SamplingSteps { get; set; }

    /// <summary>Monte Carlo pairs (y, eps) of the entropy-production integrals, y resampled from the held-out rows (default 512; at least 2).</summary>
    public int ThermodynamicSamples { get; set; } = 512;

    /// <summary>Whether to compute the mean held-out NLL (the costliest metric; default true). When false
    /// <see cref="DiffusionMetrics.MeanNll"/> is NaN.</summary>
    public bool ComputeLikelihood { get; set; } = true;

    /// <summary>Settings of the likelihood (divergence estimator, steps, integrator, engine); <see langword="null"/> for the
    /// defaults. Its column names are not used.</summary>
    public LikelihoodTransformOptions? Likelihood { get; set; }

    /// <summary>Checks every field.</summary>
    /// <exception cref="ArgumentException"><see cref="FeatureColumnName"/> is null or blank.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A number is out of range; ParamName names the option.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(FeatureColumnName))
            throw new ArgumentException($"'{nameof(FeatureColumnName)}' must not be null or blank.", nameof(FeatureColumnName));
        if (!Enum.IsDefined(MissingValueHandling))
            throw new ArgumentOutOfRangeException(nameof(MissingValueHandling), MissingValueHandling, "Unknown missing-value handling.");
        if (GeneratedRows is { } g && g < 2) throw new ArgumentOutOfRangeException(nameof(GeneratedRows), g, "'GeneratedRows' must be at least 2.");
        if (Projections <= 0) throw new ArgumentOutOfRangeException(nameof(Projections), Projections, "'Projections' must be positive.");
        if (MaxExactW2Rows < 1) throw new ArgumentOutOfRangeException(nameof(MaxExactW2Rows), MaxExactW2Rows, "'MaxExactW2Rows' must be at least 1.");
        if (SamplingSteps is { } steps && steps <= 0) throw new ArgumentOutOfRangeException(nameof(SamplingSteps), steps, "'SamplingSteps' must be positive.");
        if (ThermodynamicSamples < 2) throw new ArgumentOutOfRangeException(nameof(ThermodynamicSamples), ThermodynamicSamples, "'ThermodynamicSamples' must be at least 2.");
        Likelihood?.Validate();
    }
}
