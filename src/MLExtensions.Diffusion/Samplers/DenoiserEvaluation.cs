using MLExtensions.Diffusion.Denoisers;

namespace MLExtensions.Diffusion.Samplers;

/// <summary>
/// Where the samplers call the denoiser and turn x0hat into the quantities they step with (SPEC section 5), through the
/// single home of those formulas, <see cref="PredictionConversions"/>:
/// epshat = (x - m x0hat) / sigma, the probability-flow velocity nu = mdot x0hat + sigmadot epshat, and the score
/// s = -epshat / sigma.
/// </summary>
internal static class DenoiserEvaluation
{
    /// <summary>Calls the denoiser once on the whole batch and writes x0hat and epshat (sigma must be positive).</summary>
    public static void Evaluate(IDenoiser denoiser, ReadOnlySpan<double> x, double m, double sigma, Span<double> x0Hat, Span<double> epsHat)
    {
        denoiser.Denoise(x, m, sigma, x0Hat);
        PredictionConversions.EpsFromX0(x, x0Hat, m, sigma, epsHat);
    }

    /// <summary>Calls the denoiser once and writes the probability-flow velocity nu = mdot x0hat + sigmadot epshat.</summary>
    /// <param name="denoiser">The denoiser.</param>
    /// <param name="x">The rows.</param>
    /// <param name="m">m_t.</param>
    /// <param name="sigma">sigma_t &gt; 0.</param>
    /// <param name="mDot">dm/dt at t.</param>
    /// <param name="sigmaDot">dsigma/dt at t.</param>
    /// <param name="scratch">Scratch of the length of x (receives x0hat).</param>
    /// <param name="velocity">Destination.</param>
    public static void Velocity(IDenoiser denoiser, ReadOnlySpan<double> x, double m, double sigma, double mDot, double sigmaDot,
        Span<double> scratch, Span<double> velocity)
    {
        denoiser.Denoise(x, m, sigma, scratch);
        PredictionConversions.VelocityFromX0(x, scratch, m, sigma, mDot, sigmaDot, velocity);
    }

    /// <summary>Calls the denoiser once and writes the score s = -epshat / sigma = -(x - m x0hat) / sigma^2.</summary>
    public static void Score(IDenoiser denoiser, ReadOnlySpan<double> x, double m, double sigma, Span<double> scratch, Span<double> score)
    {
        denoiser.Denoise(x, m, sigma, scratch);
        PredictionConversions.ScoreFromX0(x, scratch, m, sigma, score);
    }
}
