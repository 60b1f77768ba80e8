namespace MLExtensions.Diffusion.Service;

/// <summary>Which sampling plan a samples request follows (field <c>plan</c>).</summary>
internal enum SamplingPlanChoice
{
    /// <summary>"model": the plan stored in the model file (schedule, grid, solver); with <c>nfe</c>, its schedule and
    /// solver on the model's default grid with that many network evaluations.</summary>
    Model,

    /// <summary>"default": Heun on the training schedule's default grid (the plan a freshly trained model has); with
    /// <c>nfe</c>, that many network evaluations.</summary>
    Default,
}
