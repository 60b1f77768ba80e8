namespace MLExtensions.Diffusion.Denoisers;

/// <summary>
/// An analytic data law q whose noised marginals P_t (the law of x = m y + sigma eps, y ~ q) are known in closed form:
/// the exact denoiser plus the log-density, the score s = grad ln P_t and sampling from q. The thermodynamics code
/// reads these (SPEC sections 2 and 8).
/// </summary>
/// <remarks>
/// The marginal depends on the noise level (m, sigma) only, not on a schedule's clock. By Tweedie's formula the score
/// and the denoiser agree: s = -(x - m E[y | x]) / sigma^2 (see <see cref="PredictionConversions.ScoreFromX0"/>).
/// </remarks>
public interface IMarginalDensity : IDenoiser
{
    /// <summary>ln P(x) for one row x = m y + sigma eps.</summary>
    /// <param name="row">One row of length <see cref="IDenoiser.Dimension"/>.</param>
    /// <param name="m">Signal scale, finite and &gt;= 0.</param>
    /// <param name="sigma">Noise scale, finite and &gt;= 0; not both zero.</param>
    /// <returns>The natural log of the density of the marginal at <paramref name="row"/>.</returns>
    /// <exception cref="ArgumentException">The row length is not <see cref="IDenoiser.Dimension"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="m"/> or <paramref name="sigma"/> is out of range.</exception>
    double LogDensity(ReadOnlySpan<double> row, double m, double sigma);

    /// <summary>ln P(x) for every row of a batch.</summary>
    /// <param name="x">Rows, row-major; length a positive multiple of <see cref="IDenoiser.Dimension"/>.</param>
    /// <param name="m">Signal scale, finite and &gt;= 0.</param>
    /// <param name="sigma">Noise scale, finite and &gt;= 0; not both zero.</param>
    /// <param name="logDensity">Destination, one entry per row.</param>
    /// <exception cref="ArgumentException">A length is wrong.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="m"/> or <paramref name="sigma"/> is out of range.</exception>
    void LogDensity(ReadOnlySpan<double> x, double m, double sigma, Span<double> logDensity);

    /// <summary>The score grad ln P(x) for every row of a batch.</summary>
    /// <param name="x">Rows, row-major; length a positive multiple of <see cref="IDenoiser.Dimension"/>.</param>
    /// <param name="m">Signal scale, finite and &gt;= 0.</param>
    /// <param name="sigma">Noise scale, finite and &gt;= 0; not both zero.</param>
    /// <param name="score">Destination, same length as <paramref name="x"/>; must not overlap it.</param>
    /// <exception cref="ArgumentException">A length is wrong, or the spans overlap.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="m"/> or <paramref name="sigma"/> is out of range.</exception>
    void Score(ReadOnlySpan<double> x, double m, double sigma, Span<double> score);

    /// <summary>Fills <paramref name="destination"/> with independent rows y ~ q.</summary>
    /// <param name="random">The random source; seeded, the draws are reproducible.</param>
    /// <param name="destination">Rows to fill; length a positive multiple of <see cref="IDenoiser.Dimension"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="random"/> is null.</exception>
    /// <exception cref="ArgumentException">The destination length is not a positive multiple of the dimension.</exception>
    void SampleData(Random random, Span<double> destination);
}
