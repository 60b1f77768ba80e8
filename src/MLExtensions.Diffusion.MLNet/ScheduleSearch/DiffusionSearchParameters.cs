using Microsoft.ML.SearchSpace;

namespace MLExtensions.Diffusion.ScheduleSearch;

/// <summary>A search over training and sampling together: <c>SearchSpace.FromType&lt;DiffusionSearchParameters&gt;()</c> has
/// the dimensions "Training.Width", ..., "Sampling.Path", ... (<see cref="DiffusionTrialRunner"/> trains a network per
/// distinct training point and reuses it for every sampling point).</summary>
public sealed class DiffusionSearchParameters
{
    /// <summary>The training side.</summary>
    [NestOption]
    public TrainingSearchParameters Training { get; set; } = new();

    /// <summary>The sampling side.</summary>
    [NestOption]
    public SamplingSearchParameters Sampling { get; set; } = new();
}
