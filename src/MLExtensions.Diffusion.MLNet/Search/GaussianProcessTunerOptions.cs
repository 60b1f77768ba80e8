namespace MLExtensions.Diffusion.Search;

/// <summary>Settings of a <see cref="GaussianProcessTuner"/>; the defaults suit a few to a few dozen dimensions and up to a few hundred trials.</summary>
public sealed record GaussianProcessTunerOptions
{
    /// <summary>The covariance (default Matérn 5/2).</summary>
    public GaussianProcessKernel Kernel { get; init; } = GaussianProcessKernel.Matern52;

    /// <summary>Uniform random proposals before the surrogate is used (default 5; at least 1).</summary>
    public int InitialRandomTrials { get; init; } = 5;

    /// <summary>Uniform random candidates of the acquisition per proposal (default 512; at least 1).</summary>
    public int RandomCandidates { get; init; } = 512;

    /// <summary>Gaussian perturbations of each of the best few observed points per proposal (default 64; 0 for none).</summary>
    public int LocalCandidatesPerPoint { get; init; } = 64;

    /// <summary>The expected-improvement margin ξ, in units of the standardised loss (default 0.01; &gt;= 0).</summary>
    public double Exploration { get; init; } = 0.01;

    /// <summary>Length scales (unit-cube units) the marginal likelihood chooses from (default 0.05 .. 2; each &gt; 0).</summary>
    public IReadOnlyList<double> LengthScales { get; init; } = [0.05, 0.1, 0.15, 0.25, 0.4, 0.6, 1.0, 2.0];

    /// <summary>Noise variances, relative to the signal variance, the marginal likelihood chooses from (default 1e-6 .. 0.1; each &gt; 0).</summary>
    public IReadOnlyList<double> NoiseLevels { get; init; } = [1e-6, 1e-4, 1e-2, 1e-1];
}
