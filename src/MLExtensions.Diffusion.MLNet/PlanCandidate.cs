namespace MLExtensions.Diffusion.MLNet;

/// <summary>One candidate plan of <see cref="ScheduleOptimizationEstimator"/>, measured on the selection latents and the
/// selection split of the data.</summary>
/// <param name="Label">"schedule / grid / sampler", e.g. "fitted-path / DynamicProgramming / Heun".</param>
/// <param name="Schedule">The schedule's role: "training", "gaussian-ot" or "fitted-path".</param>
/// <param name="Grid">The grid kind.</param>
/// <param name="Sampler">The solver.</param>
/// <param name="Nfe">Network evaluations per row (0 when the candidate could not be built).</param>
/// <param name="TopNoiseLevel">sigma/m where the plan starts (NaN when it could not be built).</param>
/// <param name="Rms">Per-row RMS distance to the converged samples (z units; NaN when it could not be built).</param>
/// <param name="SlicedW2">Sliced W2 to the converged samples (z units).</param>
/// <param name="HeldOutSlicedW2">Sliced W2 between the plan's samples and the selection split of the data (z units).</param>
/// <param name="EstimatedError">The dynamic programme's estimate (sum of step errors) for such grids, else null.</param>
/// <param name="Failure">Why the candidate could not be built (e.g. a grid the schedule cannot resolve), else null.</param>
public sealed record PlanCandidate(string Label, string Schedule, SamplingGridKind Grid, GenerateSamplerKind Sampler, int Nfe,
    double TopNoiseLevel, double Rms, double SlicedW2, double HeldOutSlicedW2, double? EstimatedError, string? Failure);
