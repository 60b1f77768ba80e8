using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Plans;

namespace MLExtensions.Diffusion.Models;

/// <summary>How <c>ScoreMatchingEstimator</c> scales the features before the diffusion sees them
/// (<see cref="ScoreMatchingOptions.FeatureScaling"/>).</summary>
public enum FeatureScaling
{
    /// <summary>Each feature is standardised to zero mean and unit (population) standard deviation, so features on very
    /// different scales (grams next to millimetres) all sit above the noise; the diffusion runs in these standardised
    /// units and generated rows are mapped back, y = mean + std z (the default).</summary>
    PerFeature,

    /// <summary>No per-feature scaling: the engine's own isotropic standardisation (one scale for all features) is the
    /// only one, so the diffusion runs in data units up to one common factor.</summary>
    Isotropic,

    /// <summary>Each feature (after its bound map, see <see cref="FeatureEncoding"/>) goes through a quantile-normal map,
    /// u = Phi^-1(F(y)) with F its training rows' empirical CDF (as TabDDPM does), fitted at training, saved with the model
    /// and inverted on generation; heavy tails and spikes become a standard normal. Categorical ranges are left as they
    /// are. No further scaling follows (the map's output already has unit scale).</summary>
    QuantileNormal,
}
