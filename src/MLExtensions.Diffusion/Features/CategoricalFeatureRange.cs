using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;

namespace MLExtensions.Diffusion.Features;

/// <summary>
/// A categorical column inside the feature vector (<see cref="ScoreMatchingOptions.CategoricalFeatures"/>): the
/// <paramref name="Count"/> features from <paramref name="Start"/> on hold a one-hot code (what ML.NET's
/// <c>mlContext.Transforms.Categorical.OneHotEncoding</c> writes for a key or text column). The model diffuses the code as
/// <paramref name="Count"/> real features and decodes every generated row by argmax, so generated rows hold exactly one 1
/// (a valid category) and zeros in these slots.
/// </summary>
/// <param name="Start">Index of the first slot (0-based).</param>
/// <param name="Count">Categories, k (at least 2).</param>
public sealed record CategoricalFeatureRange(int Start, int Count);
