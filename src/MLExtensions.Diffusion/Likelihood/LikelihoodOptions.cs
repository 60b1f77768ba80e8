using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Likelihood;

/// <summary>Settings of <see cref="ProbabilityFlowLikelihood"/>; checked in one place (<see cref="Validate"/>).</summary>
public sealed record LikelihoodOptions
{
    /// <summary>Integration steps on a grid uniform in log-SNR from t_min to MaxTime (default 64).</summary>
    public int Steps { get; init; } = 64;

    /// <summary>The one-step method (default <see cref="LikelihoodIntegrator.Heun"/>).</summary>
    public LikelihoodIntegrator Integrator { get; init; } = LikelihoodIntegrator.Heun;

    /// <summary>
    /// t_min, the data-side start of the integration, in (0, MaxTime); <see langword="null"/> (default) means
    /// <see cref="TimeGrid.DefaultLogSnrEndFraction"/> times tau. The result is the log-density of the data law smoothed by
    /// N(0, (sigma/m)^2 I) at t_min (see <see cref="ProbabilityFlowLikelihood"/>).
    /// </summary>
    public double? TMin { get; init; }

    /// <summary>How tr(J) is obtained (default <see cref="DivergenceEstimator.Exact"/>).</summary>
    public DivergenceEstimator Divergence { get; init; } = DivergenceEstimator.Exact;

    /// <summary>Rademacher probes per row for <see cref="DivergenceEstimator.Hutchinson"/> (default 8; at least 1).</summary>
    public int HutchinsonProbes { get; init; } = 8;

    /// <summary>Seed of the probe draws (default 0); the same seed gives the same result.</summary>
    public int Seed { get; init; }

    /// <summary>
    /// The law whose marginal at MaxTime, <see cref="IMarginalDensity.LogDensity(ReadOnlySpan{double}, double, double)"/> at
    /// (m_T, sigma_T), is the prior log p_T; <see langword="null"/> (default) uses N(0, (m_T^2 <see cref="DataVariance"/> + sigma_T^2) I).
    /// </summary>
    public IMarginalDensity? Prior { get; init; }

    /// <summary>
    /// s_data^2 of the default prior N(0, (m_T^2 s_data^2 + sigma_T^2) I) (default 1, for standardised data); ignored when
    /// <see cref="Prior"/> is set. When m_T is about 0 its value hardly matters and the prior is N(0, sigma_T^2 I).
    /// </summary>
    public double DataVariance { get; init; } = 1.0;

    /// <summary>The largest number of expanded rows (rows times tangents per row) per denoiser call (default 8192).</summary>
    public int MaxBatchRows { get; init; } = 8192;

    /// <summary>Checks every field against the schedule and the dimension and returns t_min.</summary>
    /// <param name="schedule">The schedule the likelihood is computed on.</param>
    /// <param name="dimension">The data dimension d.</param>
    /// <returns>The resolved t_min.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="schedule"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A field is out of range; ParamName names it.</exception>
    /// <exception cref="ArgumentException">The prior's dimension differs from <paramref name="dimension"/>.</exception>
    public double Validate(NoiseSchedule schedule, int dimension)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        if (Steps <= 0) throw new ArgumentOutOfRangeException(nameof(Steps), Steps, "'Steps' must be positive.");
        if (!Enum.IsDefined(Integrator)) throw new ArgumentOutOfRangeException(nameof(Integrator), Integrator, "Unknown integrator.");
        if (!Enum.IsDefined(Divergence)) throw new ArgumentOutOfRangeException(nameof(Divergence), Divergence, "Unknown divergence estimator.");
        if (HutchinsonProbes <= 0) throw new ArgumentOutOfRangeException(nameof(HutchinsonProbes), HutchinsonProbes, "'HutchinsonProbes' must be positive.");
        if (MaxBatchRows <= 0) throw new ArgumentOutOfRangeException(nameof(MaxBatchRows), MaxBatchRows, "'MaxBatchRows' must be positive.");
        if (!double.IsFinite(DataVariance) || DataVariance <= 0)
            throw new ArgumentOutOfRangeException(nameof(DataVariance), DataVariance, "'DataVariance' must be finite and positive.");
        double tMin = TMin ?? TimeGrid.DefaultLogSnrEndFraction * schedule.Tau;
        if (!double.IsFinite(tMin) || tMin <= 0 || tMin >= schedule.MaxTime)
            throw new ArgumentOutOfRangeException(nameof(TMin), tMin, $"'TMin' must lie in (0, {schedule.MaxTime}) (MaxTime of '{schedule.Name}').");
        if (Prior is { } prior && prior.Dimension != dimension)
            throw new ArgumentException($"The prior has dimension {prior.Dimension} but the data have {dimension}.", nameof(Prior));
        return tMin;
    }
}
