namespace MLExtensions.Diffusion.Likelihood;

/// <summary>What a <see cref="ProbabilityFlowLikelihood"/> run did.</summary>
/// <param name="Steps">Integration steps.</param>
/// <param name="FunctionEvaluations">Evaluations of the joint vector field per row (each one Jacobian-vector-product call on
/// the row's probes or basis vectors).</param>
/// <param name="ProbesPerRow">Tangents per row: d for <see cref="DivergenceEstimator.Exact"/>, the probe count for Hutchinson.</param>
/// <param name="StartTime">t_min, the data-side end of the integration.</param>
/// <param name="EndTime">T, the prior-side end (the schedule's MaxTime).</param>
public readonly record struct LikelihoodResult(int Steps, int FunctionEvaluations, int ProbesPerRow, double StartTime, double EndTime);
