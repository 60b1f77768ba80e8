namespace MLExtensions.Diffusion.Likelihood;

/// <summary>What a <see cref="CompiledLikelihood"/> call did.</summary>
/// <param name="Chunks">Chunks of rows integrated (each one adaptive step sequence).</param>
/// <param name="MaxStepsPerChunk">The most accepted steps of one chunk.</param>
/// <param name="RejectedSteps">Rejected steps over all chunks (adaptive integration only).</param>
/// <param name="FunctionEvaluations">Network evaluations (one forward pass plus the tangents of every row of a chunk)
/// summed over chunks.</param>
/// <param name="ProbesPerRow">Tangents per row: d for <see cref="DivergenceEstimator.Exact"/>, the probe count for Hutchinson.</param>
/// <param name="MaxErrorEstimate">The largest per-row error estimate, in nats (NaN for the grid's Euler and RK4, which
/// have none).</param>
/// <param name="StartTime">t_min, the data-side end of the integration.</param>
/// <param name="EndTime">T, the prior-side end (the schedule's MaxTime).</param>
public readonly record struct CompiledLikelihoodResult(int Chunks, int MaxStepsPerChunk, int RejectedSteps, long FunctionEvaluations,
    int ProbesPerRow, double MaxErrorEstimate, double StartTime, double EndTime);
