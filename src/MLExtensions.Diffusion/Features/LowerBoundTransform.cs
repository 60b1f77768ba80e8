using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;

namespace MLExtensions.Diffusion.Features;

/// <summary>The map a feature with only a lower bound lo is diffused through (<see cref="ScoreMatchingOptions.LowerBoundTransform"/>).</summary>
public enum LowerBoundTransform
{
    /// <summary>y = lo + s softplus(u / s), s the standard deviation of y - lo in the training rows: log-like near the bound,
    /// linear far from it (the default).</summary>
    Softplus,

    /// <summary>y = lo + exp(u): the log transform (u = ln(y - lo)), for features spread over orders of magnitude.</summary>
    Log,
}
