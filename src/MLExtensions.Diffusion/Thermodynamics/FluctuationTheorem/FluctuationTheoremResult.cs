namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// The integral fluctuation theorem estimate from N forward trajectories (see <see cref="FluctuationTheorem"/>).
/// </summary>
/// <param name="MeanExpNegativeEntropyProduction">The sample mean of exp(-s_tot); the theorem says its expectation is 1.</param>
/// <param name="StandardError">The standard error of that mean, sd(exp(-s_tot)) / sqrt(N). Meaningless when
/// <see cref="InfiniteVarianceRisk"/> is set: the estimator's variance may then be infinite.</param>
/// <param name="MeanEntropyProduction">The sample mean of s_tot; for OU with Gaussian data its expectation is
/// S_tot = KL(P_0 || N(0, I)) - KL(P_tau || N(0, I)).</param>
/// <param name="EntropyProductionStandardError">The standard error of <paramref name="MeanEntropyProduction"/>.</param>
/// <param name="SampleCount">N, the number of trajectories.</param>
/// <param name="EffectiveSampleSize">(sum w)^2 / sum w^2 with w = exp(-s_tot): far below N when a few trajectories
/// dominate the mean (the heavy-tail symptom).</param>
/// <param name="InfiniteVarianceRisk">True when the data variance (smallest per-coordinate variance) is &lt;= 1/2,
/// the regime in which the variance of exp(-s_tot) is infinite for long enough tau. Exact for Gaussian data; for
/// other data it is computed from the sample variance of x_0 and is only a heuristic.</param>
public sealed record FluctuationTheoremResult(
    double MeanExpNegativeEntropyProduction,
    double StandardError,
    double MeanEntropyProduction,
    double EntropyProductionStandardError,
    int SampleCount,
    double EffectiveSampleSize,
    bool InfiniteVarianceRisk);
