namespace MLExtensions.Diffusion.Denoisers;

/// <summary>
/// A denoiser: given noisy rows x = m y + sigma eps it returns the estimate x0hat of E[y | x] (SPEC section 5).
/// </summary>
/// <remarks>
/// <para>As in k-diffusion, the denoiser returns x0 and is conditioned on the noise level, not on a schedule's clock:
/// the posterior of y given x = m y + sigma eps depends only on (m, sigma), so one denoiser serves every schedule.
/// Parametrisation wrappers (eps, v, velocity, score) live apart from solvers, in one place (Denoisers/PredictionConversions).</para>
/// <para>Rows are stored row-major: row r occupies x[r * Dimension .. (r + 1) * Dimension).</para>
/// </remarks>
public interface IDenoiser
{
    /// <summary>The number of features per row, d.</summary>
    int Dimension { get; }

    /// <summary>Writes x0hat = E[y | x_t = x] for every row of <paramref name="x"/>.</summary>
    /// <param name="x">Noisy rows, row-major; length a multiple of <see cref="Dimension"/>.</param>
    /// <param name="m">Signal scale m &gt; 0.</param>
    /// <param name="sigma">Noise scale sigma &gt;= 0; at sigma = 0 the result is x / m.</param>
    /// <param name="x0">Destination, same length as <paramref name="x"/>. Must not overlap <paramref name="x"/>.</param>
    /// <exception cref="ArgumentException">Lengths do not match or are not a multiple of <see cref="Dimension"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="m"/> or <paramref name="sigma"/> out of range.</exception>
    void Denoise(ReadOnlySpan<double> x, double m, double sigma, Span<double> x0);
}
