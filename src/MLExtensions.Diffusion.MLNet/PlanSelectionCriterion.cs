namespace MLExtensions.Diffusion.MLNet;

/// <summary>What <see cref="ScheduleOptimizationEstimator"/> minimises when it chooses among candidate plans.</summary>
public enum PlanSelectionCriterion
{
    /// <summary>The per-row RMS distance to the converged samples from the same latents (<see cref="PlanError.Rms"/>).</summary>
    Rms,

    /// <summary>The sliced 2-Wasserstein distance to the converged samples (<see cref="PlanError.SlicedW2"/>).</summary>
    SlicedW2,

    /// <summary>The sliced 2-Wasserstein distance between the plan's samples and the selection split of the data.</summary>
    HeldOutSlicedW2,
}
