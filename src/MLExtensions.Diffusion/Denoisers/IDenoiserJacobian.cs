namespace MLExtensions.Diffusion.Denoisers;

/// <summary>
/// A denoiser that also returns Jacobian-vector products J v of its estimate, J = d x0hat / dx, one tangent per row.
/// The divergence of the probability-flow velocity needs tr(J) (see Likelihood/ProbabilityFlowLikelihood).
/// </summary>
/// <remarks>
/// For the exact posterior mean, J = (m / sigma^2) Cov[y | x] (the second-order Tweedie identity; Efron, JASA 106, 2011;
/// Meng, Song, Li, Ermon, NeurIPS 2021), a symmetric positive semi-definite matrix. At sigma = 0 the denoiser is x / m,
/// so J = I / m.
/// </remarks>
public interface IDenoiserJacobian : IDenoiser
{
    /// <summary>Writes x0hat = E[y | x] and J v for every row, J the Jacobian of x0hat at that row.</summary>
    /// <param name="x">Noisy rows, row-major; length a positive multiple of <see cref="IDenoiser.Dimension"/>.</param>
    /// <param name="m">Signal scale m &gt; 0.</param>
    /// <param name="sigma">Noise scale sigma &gt;= 0.</param>
    /// <param name="v">Tangents, one per row, same length as <paramref name="x"/>.</param>
    /// <param name="x0">Destination of x0hat, same length as <paramref name="x"/>.</param>
    /// <param name="jv">Destination of J v, same length as <paramref name="x"/>.</param>
    /// <exception cref="ArgumentException">A length does not match, is not a multiple of the dimension, the destinations overlap
    /// the inputs or each other, or a tangent is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="m"/> or <paramref name="sigma"/> is out of range.</exception>
    void JacobianVectorProduct(ReadOnlySpan<double> x, double m, double sigma, ReadOnlySpan<double> v, Span<double> x0, Span<double> jv);
}
