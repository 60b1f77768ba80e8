using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Plans;

namespace MLExtensions.Diffusion.Models;

/// <summary>The options that declare what kind of values each feature holds (bounded, integer, categorical); see
/// <see cref="FeatureEncoding"/>.</summary>
public sealed partial class ScoreMatchingOptions
{
    /// <summary>Declared bounds per feature (default none). Generated values of a bounded feature respect its bounds
    /// exactly (<see cref="FeatureBound"/>, <see cref="FeatureEncoding"/>). Training rows must lie within them; checked at
    /// <c>ScoreMatchingEstimator.Fit</c>, where the feature indices are checked against the column's size.</summary>
    public FeatureBound[] FeatureBounds { get; set; } = [];

    /// <summary>The map of features with only a lower bound (default <see cref="MLExtensions.Diffusion.Features.LowerBoundTransform.Softplus"/>).</summary>
    public LowerBoundTransform LowerBoundTransform { get; set; } = LowerBoundTransform.Softplus;

    /// <summary>Whether features without declared bounds get inferred ones (default false): a feature whose training
    /// minimum is at least 0 and at least <see cref="FeatureEncoding.InferredSpikeFraction"/> of whose training rows (and at
    /// least 2) are exactly 0 gets the lower bound 0.</summary>
    public bool InferBounds { get; set; }

    /// <summary>Features rounded to the nearest integer on output (default none); indices into the feature vector.</summary>
    public int[] IntegerFeatures { get; set; } = [];

    /// <summary>Whether every feature whose training values are all integral (and that is not categorical) is rounded on
    /// output too (default false).</summary>
    public bool InferIntegerFeatures { get; set; }

    /// <summary>One-hot coded categorical columns inside the feature vector (default none), decoded by argmax on output
    /// (<see cref="CategoricalFeatureRange"/>).</summary>
    public CategoricalFeatureRange[] CategoricalFeatures { get; set; } = [];

    /// <summary>The checks of the feature-type options that need no data.</summary>
    private void ValidateFeatureTypes()
    {
        RequireDefined(LowerBoundTransform, nameof(LowerBoundTransform));
        if (FeatureBounds is null) throw new ArgumentException($"The option {nameof(FeatureBounds)} must not be null (use an empty array).", nameof(FeatureBounds));
        foreach (var bound in FeatureBounds)
        {
            if (bound is null) throw new ArgumentException($"The option {nameof(FeatureBounds)} holds a null entry.", nameof(FeatureBounds));
            if (bound.Feature < 0) throw new ArgumentException($"The option {nameof(FeatureBounds)} names the negative feature {bound.Feature}.", nameof(FeatureBounds));
            if (bound.Lower is null && bound.Upper is null)
                throw new ArgumentException($"The option {nameof(FeatureBounds)} holds {bound}, which has neither bound.", nameof(FeatureBounds));
            if (bound.Lower is { } lo && !double.IsFinite(lo) || bound.Upper is { } hi && !double.IsFinite(hi))
                throw new ArgumentException($"The option {nameof(FeatureBounds)} holds {bound}, whose bounds must be finite.", nameof(FeatureBounds));
            if (bound.Lower is { } l && bound.Upper is { } h && !(l < h))
                throw new ArgumentException($"The option {nameof(FeatureBounds)} holds {bound}, whose lower bound is not below its upper bound.", nameof(FeatureBounds));
        }
        if (IntegerFeatures is null) throw new ArgumentException($"The option {nameof(IntegerFeatures)} must not be null (use an empty array).", nameof(IntegerFeatures));
        foreach (int j in IntegerFeatures)
            if (j < 0) throw new ArgumentException($"The option {nameof(IntegerFeatures)} names the negative feature {j}.", nameof(IntegerFeatures));
        if (CategoricalFeatures is null) throw new ArgumentException($"The option {nameof(CategoricalFeatures)} must not be null (use an empty array).", nameof(CategoricalFeatures));
        foreach (var range in CategoricalFeatures)
            if (range is null || range.Start < 0 || range.Count < 2)
                throw new ArgumentException($"The option {nameof(CategoricalFeatures)} holds {range?.ToString() ?? "null"}; a range needs Start >= 0 and Count >= 2.", nameof(CategoricalFeatures));
        ValidateValidationSplit();
    }

    private void CopyFeatureTypes(ScoreMatchingOptions copy)
    {
        copy.FeatureBounds = FeatureBounds?.ToArray()!;
        copy.IntegerFeatures = IntegerFeatures?.ToArray()!;
        copy.CategoricalFeatures = CategoricalFeatures?.ToArray()!;
    }
}
