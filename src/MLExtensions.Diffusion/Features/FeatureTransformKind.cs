using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;

namespace MLExtensions.Diffusion.Features;

/// <summary>The bound map of one feature in a <see cref="FeatureEncoding"/> (from data units y to an unbounded u).</summary>
public enum FeatureTransformKind
{
    /// <summary>u = y.</summary>
    Identity,

    /// <summary>Lower bound: y = lo + s softplus(u / s).</summary>
    LowerSoftplus,

    /// <summary>Lower bound: y = lo + exp(u).</summary>
    LowerLog,

    /// <summary>Upper bound: y = hi - s softplus(u / s).</summary>
    UpperSoftplus,

    /// <summary>Both bounds: y = lo + (hi - lo) sigmoid(u).</summary>
    Logit,
}
