using MLExtensions.Diffusion.Numerics;
using MathNet.Numerics;
namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// The collapse time of Biroli, Bonnaire, de Bortoli and Mezard (arXiv:2402.18491): with n training points in d
/// dimensions and the exact empirical score, backward trajectories are captured by a single training point once
/// t &lt; t_C (SPEC section 7). The OU forward process dX = -X dt + sqrt(2) dB is assumed.
/// </summary>
/// <remarks>
/// <para>What is computed: the SPEC's closed-form excess-entropy criterion, not a Monte Carlo estimate on the
/// empirical law. Once the n Gaussian bumps of the memorising law P^e_t (each of variance Delta_t = 1 - e^-2t)
/// no longer overlap, its entropy per dimension is <see cref="MemorizedEntropyPerDimension"/> =
/// ln n / d + 1/2 + 1/2 ln(2 pi Delta_t). The collapse time t_C is where this crosses the entropy per dimension
/// s(t) of the true marginal P_t: for t &gt; t_C, s(t) is smaller and P^e_t behaves like P_t; for t &lt; t_C the
/// memorised law has less entropy than the true one can spread over and the dynamics condenses on training points.</para>
/// <para>Direction: the memorised entropy grows with n, so the crossing moves to smaller t: more training points
/// give an earlier-in-t (later in the backward run) collapse. With n = 1 there is no crossing (t_C = +infinity).</para>
/// </remarks>
public static class CollapseTime
{
    /// <summary>
    /// The entropy per dimension of n non-overlapping Gaussian bumps of variance Delta_t = 1 - e^-2t:
    /// ln n / d + 1/2 + 1/2 ln(2 pi Delta_t) (SPEC section 7).
    /// </summary>
    /// <param name="t">Time t &gt; 0.</param>
    /// <param name="trainingPoints">n &gt;= 1.</param>
    /// <param name="dimension">d &gt;= 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is not finite and positive, or
    /// <paramref name="trainingPoints"/> or <paramref name="dimension"/> is not positive.</exception>
    public static double MemorizedEntropyPerDimension(double t, int trainingPoints, int dimension)
    {
        if (!double.IsFinite(t) || t <= 0) throw new ArgumentOutOfRangeException(nameof(t), t, "The time must be finite and positive.");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(trainingPoints);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        return Math.Log(trainingPoints) / dimension + 0.5 + 0.5 * Math.Log(2 * Math.PI * SymmetricGaussianMixtureOu.AddedVariance(t));
    }

    /// <summary>
    /// Solves s(t) = <see cref="MemorizedEntropyPerDimension"/>(t, n, d) for t by bisection on (0, maxTime].
    /// </summary>
    /// <param name="entropyPerDimension">s(t), the entropy per dimension of the true marginal P_t.</param>
    /// <param name="trainingPoints">n &gt;= 1.</param>
    /// <param name="dimension">d &gt;= 1.</param>
    /// <param name="maxTime">The largest time searched; finite and positive.</param>
    /// <returns>t_C, or <see cref="double.PositiveInfinity"/> when n = 1 or when s(t) stays above the memorised entropy
    /// up to <paramref name="maxTime"/> (no collapse transition in range).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="entropyPerDimension"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="trainingPoints"/>, <paramref name="dimension"/> or
    /// <paramref name="maxTime"/> is not positive (and finite).</exception>
    /// <exception cref="ArgumentException"><paramref name="entropyPerDimension"/> returned a non-finite value.</exception>
    public static double Solve(Func<double, double> entropyPerDimension, int trainingPoints, int dimension, double maxTime = 20)
    {
        ArgumentNullException.ThrowIfNull(entropyPerDimension);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(trainingPoints);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        if (!double.IsFinite(maxTime) || maxTime <= 0)
            throw new ArgumentOutOfRangeException(nameof(maxTime), maxTime, "The largest time must be finite and positive.");
        double Gap(double t)
        {
            double s = entropyPerDimension(t);
            if (!double.IsFinite(s))
                throw new ArgumentException($"The entropy per dimension at t = {t} is not finite.", nameof(entropyPerDimension));
            return s - MemorizedEntropyPerDimension(t, trainingPoints, dimension);
        }
        // n = 1: the entropy power inequality gives s(t) >= 1/2 ln(2 pi e Delta_t) for every t, so there is no
        // crossing; deciding it here keeps quadrature noise in s(t) at large t from inventing one.
        if (trainingPoints == 1) return double.PositiveInfinity;
        double hi = maxTime;
        if (Gap(hi) >= 0) return double.PositiveInfinity;
        double lo = maxTime;
        // The gap is +infinity at t -> 0 (ln Delta_t -> -infinity): walk down until it turns positive.
        do
        {
            hi = lo;
            lo *= 0.5;
            if (lo < 1e-300) return 0;
        } while (Gap(lo) < 0);
        for (int i = 0; i < 200 && hi - lo > 1e-13 * hi; i++)
        {
            double mid = 0.5 * (lo + hi);
            if (Gap(mid) >= 0) lo = mid; else hi = mid;
        }
        return 0.5 * (lo + hi);
    }

    /// <summary>
    /// Closed-form collapse time for Gaussian data N(m, v I) (any mean): s(t) = 1/2 ln(2 pi e (e^-2t v + Delta_t)),
    /// so t_C = 1/2 ln(1 + v / (n^(2/d) - 1)).
    /// </summary>
    /// <param name="variance">The data variance v &gt; 0 per coordinate.</param>
    /// <param name="trainingPoints">n &gt;= 1 (n = 1 gives +infinity).</param>
    /// <param name="dimension">d &gt;= 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is not positive (and finite).</exception>
    public static double ForGaussian(double variance, int trainingPoints, int dimension)
    {
        if (!double.IsFinite(variance) || variance <= 0)
            throw new ArgumentOutOfRangeException(nameof(variance), variance, "The variance must be finite and positive.");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(trainingPoints);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        double k = ElementaryFunctions.ExpM1(2 * Math.Log(trainingPoints) / dimension);
        return k == 0 ? double.PositiveInfinity : 0.5 * ElementaryFunctions.Log1P(variance / k);
    }

    /// <summary>
    /// The collapse time for n training points drawn from the symmetric mixture, with s(t) from
    /// <see cref="SymmetricGaussianMixtureOu.EntropyPerDimension"/> (quadrature) and d = the mixture's dimension.
    /// </summary>
    /// <param name="mixture">The data law.</param>
    /// <param name="trainingPoints">n &gt;= 1.</param>
    /// <param name="maxTime">The largest time searched.</param>
    /// <exception cref="ArgumentNullException"><paramref name="mixture"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="trainingPoints"/> or <paramref name="maxTime"/> is not positive.</exception>
    public static double ForSymmetricMixture(SymmetricGaussianMixtureOu mixture, int trainingPoints, double maxTime = 20)
    {
        ArgumentNullException.ThrowIfNull(mixture);
        return Solve(mixture.EntropyPerDimension, trainingPoints, mixture.Dimension, maxTime);
    }
}
