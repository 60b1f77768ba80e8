namespace MLExtensions.Diffusion.MLNet;

/// <summary>How <see cref="ScoreMatchingEstimator"/> scales the features before the diffusion sees them
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
}
