namespace MLExtensions.Diffusion.MLNet;

/// <summary>Progress of <see cref="ScheduleOptimizationEstimator"/>: the stage and how many of its items are done.</summary>
/// <param name="Stage">"reference", "path", "grids", "candidates" or "report".</param>
/// <param name="Completed">Items done in this stage.</param>
/// <param name="Total">Items in this stage.</param>
public readonly record struct ScheduleOptimizationProgress(string Stage, int Completed, int Total);
