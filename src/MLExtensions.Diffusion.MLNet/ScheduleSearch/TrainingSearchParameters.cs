using Microsoft.ML.SearchSpace;

namespace MLExtensions.Diffusion.ScheduleSearch;

/// <summary>The training side of a search (network width and depth, optimiser steps, learning rate); trials with the same
/// values reuse one trained network (<see cref="DiffusionTrialRunner"/>).</summary>
public sealed class TrainingSearchParameters
{
    /// <summary>Hidden width of the MLP.</summary>
    [Range(32, 512, 128, true)]
    public int Width { get; set; } = 128;

    /// <summary>Hidden layers.</summary>
    [Range(1, 4, 3, false)]
    public int Depth { get; set; } = 3;

    /// <summary>Optimiser steps.</summary>
    [Range(250, 8000, 2000, true)]
    public int Steps { get; set; } = 2000;

    /// <summary>Peak learning rate.</summary>
    [Range(1e-4, 1e-2, 2e-3, true)]
    public double LearningRate { get; set; } = 2e-3;
}
