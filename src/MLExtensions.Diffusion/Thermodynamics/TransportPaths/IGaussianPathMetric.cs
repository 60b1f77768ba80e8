namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// The kinetic-energy metric of the Gaussian paths x = m y + sigma eps for one data law: the coefficients
/// (A, B, C) at the noise angle phi = atan2(sigma, m), so that integral |nu|^2 P dx = mdot^2 A + 2 mdot sigmadot B +
/// sigmadot^2 C (see <see cref="GaussianPathCoefficients"/>).
/// </summary>
/// <remarks>
/// <para>The kinetic cost of a schedule is c2 = integral of that energy over time (SPEC section 2); a trained denoiser
/// conditioned on (m, sigma) can follow any such path, so the metric is what <see cref="GaussianPathGeodesic"/>
/// minimises and what <see cref="GaussianPathKineticCost"/> integrates.</para>
/// <para>Implementations: <see cref="GaussianDataPathMetric"/> (closed form for Gaussian data) and
/// <see cref="DenoiserPathMetric"/> (Monte Carlo with any denoiser). Implementations must be deterministic (the same
/// phi gives the same coefficients) and should be smooth in phi.</para>
/// </remarks>
public interface IGaussianPathMetric
{
    /// <summary>The coefficients (A, B, C) at the noise angle <paramref name="phi"/>.</summary>
    /// <param name="phi">The angle atan2(sigma, m), in the open interval (0, pi/2); implementations may also accept the
    /// ends.</param>
    /// <returns>The coefficients.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="phi"/> is NaN or outside the accepted range.</exception>
    GaussianPathCoefficients Coefficients(double phi);
}
