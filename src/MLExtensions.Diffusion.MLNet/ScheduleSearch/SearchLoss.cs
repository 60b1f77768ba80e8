namespace MLExtensions.Diffusion.ScheduleSearch;

/// <summary>What a <see cref="DiffusionTrialRunner"/> trial minimises.</summary>
public enum SearchLoss
{
    /// <summary>Per-row RMS distance to the same network's converged samples from the same latents (discretisation error;
    /// sampling side only: use it with a fixed network).</summary>
    DiscretisationRms,

    /// <summary>Sliced 2-Wasserstein distance between generated rows and the validation rows (standardised units).</summary>
    ValidationSlicedW2,

    /// <summary>Unbiased MMD^2 between generated rows and the validation rows (standardised units).</summary>
    ValidationMmd,

    /// <summary>Mean negative log-likelihood of the validation rows under the network (probability-flow ODE; nats per row,
    /// data units; depends on the training side only).</summary>
    ValidationNll,
}
