namespace MLExtensions.Diffusion.MLNet;

/// <summary>The outcome of <see cref="ScheduleOptimizationEstimator.Optimize"/>.</summary>
/// <param name="Model">The model with the chosen plan (<see cref="DiffusionModel.WithSamplingPlan"/>).</param>
/// <param name="Report">What was measured and chosen.</param>
public sealed record ScheduleOptimizationResult(DiffusionModel Model, ScheduleOptimizationReport Report);
