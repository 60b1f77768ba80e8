using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Plans;

namespace MLExtensions.Diffusion.Models;

/// <summary>What <c>ScoreMatchingEstimator.Fit</c> does with rows holding a missing (NaN) or infinite value.</summary>
public enum MissingValueHandling
{
    /// <summary>Throw an <see cref="ArgumentException"/> naming the first such row and the column (the default).</summary>
    Error,

    /// <summary>Skip such rows; the count is logged and kept in <see cref="TrainingSummary.DroppedRows"/>.</summary>
    DropRows,
}
