namespace MLExtensions.Diffusion.Denoisers;

/// <summary>
/// What a model predicts from a noisy row x = m y + sigma eps (SPEC sections 1 and 5). The exact conversions between
/// the kinds live in <see cref="PredictionConversions"/>.
/// </summary>
public enum Prediction
{
    /// <summary>The clean data x0 = E[y | x] (a denoiser).</summary>
    X0,

    /// <summary>The noise eps = (x - m x0) / sigma.</summary>
    Eps,

    /// <summary>
    /// The v-prediction v = (m eps - sigma x0) / sqrt(m^2 + sigma^2); for VP paths (m^2 + sigma^2 = 1) this is
    /// Salimans and Ho's v = alpha eps - sigma x0.
    /// </summary>
    V,

    /// <summary>The probability-flow velocity nu = mdot x0 + sigmadot eps; needs the path's time derivatives.</summary>
    Velocity,

    /// <summary>The score s = grad ln P_t(x) = -eps / sigma.</summary>
    Score,
}
