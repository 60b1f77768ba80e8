using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;

namespace MLExtensions.Diffusion.Features;

/// <summary>
/// A declared range of one feature (<see cref="ScoreMatchingOptions.FeatureBounds"/>): generated values of the feature
/// respect it exactly, because the model diffuses an unbounded transform of the feature and maps back through the inverse
/// (<see cref="FeatureEncoding"/>): lower bound only, y = lo + s softplus(u / s) (or lo + exp(u), see
/// <see cref="ScoreMatchingOptions.LowerBoundTransform"/>); upper bound only, y = hi - s softplus(u / s); both,
/// y = lo + (hi - lo) sigmoid(u).
/// </summary>
/// <param name="Feature">The feature's index in the feature vector (0-based).</param>
/// <param name="Lower">The lower bound, or null for none.</param>
/// <param name="Upper">The upper bound, or null for none.</param>
/// <example>
/// <code>
/// // feature 0 (precipitation) is non-negative, feature 3 (a fraction) lies in [0, 1]
/// options.FeatureBounds = [new FeatureBound(0, Lower: 0), new FeatureBound(3, Lower: 0, Upper: 1)];
/// </code>
/// </example>
public sealed record FeatureBound(int Feature, double? Lower = null, double? Upper = null);
