using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Plans;

namespace MLExtensions.Diffusion.Models;

/// <summary>How the training noise level sigma / m of each row is drawn.</summary>
public enum NoiseLevelDistribution
{
    /// <summary>EDM log-normal, ln(sigma / m) ~ N(<see cref="ScoreMatchingOptions.LogNormalMean"/>, <see cref="ScoreMatchingOptions.LogNormalStandardDeviation"/>^2), in data units (Karras et al. 2022).</summary>
    LogNormal,

    /// <summary>t uniform on [<see cref="ScoreMatchingOptions.UniformTimeMin"/>, MaxTime] of the chosen schedule.</summary>
    UniformTime,
}
