using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Likelihood;

/// <summary>Settings of <see cref="CompiledLikelihood"/>; checked in one place (<see cref="Validate"/>).</summary>
public sealed record CompiledLikelihoodOptions
{
    /// <summary>The largest <see cref="ChunkRows"/>: 2^16 rows.</summary>
    public const int MaximumChunkRows = 1 << 16;

    /// <summary>Integration steps of the grid integrator, uniform in log-SNR as <see cref="LikelihoodOptions.Steps"/>
    /// (default 64); ignored when <see cref="AdaptiveTolerance"/> is set.</summary>
    public int Steps { get; init; } = 64;

    /// <summary>The one-step method of the grid integrator (default <see cref="LikelihoodIntegrator.Heun"/>), as
    /// <see cref="LikelihoodOptions.Integrator"/>; ignored when <see cref="AdaptiveTolerance"/> is set.</summary>
    public LikelihoodIntegrator Integrator { get; init; } = LikelihoodIntegrator.Heun;

    /// <summary>
    /// <see langword="null"/> (default): <see cref="Integrator"/> on the <see cref="Steps"/>-step log-SNR grid, today's
    /// discretisation (<see cref="ProbabilityFlowLikelihood"/>), so the result agrees with it to float rounding. A
    /// value: the adaptive Dormand-Prince 5(4) integrator with this per-row error target in nats, which converges to the
    /// ODE's solution rather than to a fixed grid's (see <see cref="CompiledLikelihood"/>).
    /// </summary>
    public double? AdaptiveTolerance { get; init; }

    /// <summary>The most steps (accepted and rejected) of an adaptive integration of one chunk (default 1000); a chunk that
    /// needs more throws <see cref="InvalidOperationException"/>.</summary>
    public int MaxSteps { get; init; } = 1000;

    /// <summary>t_min, the data-side start, as <see cref="LikelihoodOptions.TMin"/>; <see langword="null"/> (default) means
    /// <see cref="TimeGrid.DefaultLogSnrEndFraction"/> times tau.</summary>
    public double? TMin { get; init; }

    /// <summary>How tr(J) is obtained (default <see cref="DivergenceEstimator.Exact"/>: d tangents per row).</summary>
    public DivergenceEstimator Divergence { get; init; } = DivergenceEstimator.Exact;

    /// <summary>Rademacher probes per row for <see cref="DivergenceEstimator.Hutchinson"/> (default 8; at least 1).</summary>
    public int HutchinsonProbes { get; init; } = 8;

    /// <summary>The prior law, as <see cref="LikelihoodOptions.Prior"/>; <see langword="null"/> (default) for
    /// N(0, (m_T^2 <see cref="DataVariance"/> + sigma_T^2) I).</summary>
    public IMarginalDensity? Prior { get; init; }

    /// <summary>s_data^2 of the default prior (default 1), as <see cref="LikelihoodOptions.DataVariance"/>.</summary>
    public double DataVariance { get; init; } = 1.0;

    /// <summary>Rows integrated together (one adaptive step sequence, one GEMM per layer; default 128, at most
    /// <see cref="MaximumChunkRows"/>). Memory per chunk is about ChunkRows x tangents x width x 16 bytes.</summary>
    public int ChunkRows { get; init; } = 128;

    /// <summary>Chunks integrated at once by one call (default 0: the processor count). Each running chunk has its own
    /// workspace, so calls from several threads need no lock.</summary>
    public int Threads { get; init; }

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
        if (AdaptiveTolerance is { } tol && (!double.IsFinite(tol) || tol <= 0))
            throw new ArgumentOutOfRangeException(nameof(AdaptiveTolerance), tol, "'AdaptiveTolerance' must be finite and positive (or null for the grid integrator).");
        if (Steps <= 0) throw new ArgumentOutOfRangeException(nameof(Steps), Steps, "'Steps' must be positive.");
        if (!Enum.IsDefined(Integrator)) throw new ArgumentOutOfRangeException(nameof(Integrator), Integrator, "Unknown integrator.");
        if (MaxSteps <= 0) throw new ArgumentOutOfRangeException(nameof(MaxSteps), MaxSteps, "'MaxSteps' must be positive.");
        if (!Enum.IsDefined(Divergence)) throw new ArgumentOutOfRangeException(nameof(Divergence), Divergence, "Unknown divergence estimator.");
        if (HutchinsonProbes <= 0) throw new ArgumentOutOfRangeException(nameof(HutchinsonProbes), HutchinsonProbes, "'HutchinsonProbes' must be positive.");
        if (ChunkRows <= 0 || ChunkRows > MaximumChunkRows)
            throw new ArgumentOutOfRangeException(nameof(ChunkRows), ChunkRows, $"'ChunkRows' must lie in [1, {MaximumChunkRows}].");
        if (Threads < 0) throw new ArgumentOutOfRangeException(nameof(Threads), Threads, "'Threads' must be 0 (processor count) or positive.");
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
