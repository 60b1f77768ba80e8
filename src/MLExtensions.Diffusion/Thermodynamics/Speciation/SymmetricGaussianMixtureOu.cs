using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Numerics;

namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// The symmetric two-component mixture q = 1/2 N(+mu, s^2 I) + 1/2 N(-mu, s^2 I) carried by the Ornstein-Uhlenbeck
/// process dX = -X dt + sqrt(2) dB (SPEC section 7): the model on which speciation, collapse and the Franz-Parisi
/// potential are computed.
/// </summary>
/// <remarks>
/// <para>Closed forms (SPEC section 7): P_t = 1/2 N(+mu_t, Sigma_t I) + 1/2 N(-mu_t, Sigma_t I) with mu_t = mu e^-t,
/// Sigma_t = 1 - e^-2t + s^2 e^-2t, and score grad ln P_t(x) = [tanh(x . mu_t / Sigma_t) mu_t - x] / Sigma_t.</para>
/// <para>P_t is the law of x_t = m y + sigma eps with m = e^-t and sigma = sqrt(1 - e^-2t), so the log-density, score
/// and sampling delegate to <see cref="GaussianMixtureDenoiser"/> (the one home of the mixture formulas, SPEC section 8)
/// at that noise level; the tanh form above is what it reduces to for two equal-weight isotropic components.</para>
/// <para>References: Biroli, Bonnaire, de Bortoli, Mezard, "Dynamical regimes of diffusion models", arXiv:2402.18491;
/// Yu and Huang, Phys. Rev. E 111, 014111 (arXiv:2405.11932).</para>
/// <para>Immutable and thread-safe.</para>
/// </remarks>
public sealed class SymmetricGaussianMixtureOu
{
    private readonly double[] _mu;
    private readonly GaussianMixtureDenoiser _data;

    /// <summary>Creates the mixture 1/2 N(+mu, s^2 I) + 1/2 N(-mu, s^2 I).</summary>
    /// <param name="mu">The mean of the "+" component; its length is the dimension d.</param>
    /// <param name="s">The component standard deviation s &gt; 0.</param>
    /// <exception cref="ArgumentException"><paramref name="mu"/> is empty or holds a non-finite value, or
    /// <paramref name="s"/> is not finite and positive.</exception>
    public SymmetricGaussianMixtureOu(ReadOnlySpan<double> mu, double s)
    {
        if (mu.Length == 0) throw new ArgumentException("The mean mu must not be empty.", nameof(mu));
        foreach (double v in mu)
            if (!double.IsFinite(v)) throw new ArgumentException("The mean mu holds a non-finite value.", nameof(mu));
        if (!double.IsFinite(s) || s <= 0)
            throw new ArgumentException($"The component standard deviation s must be finite and positive (got {s}).", nameof(s));
        _mu = mu.ToArray();
        S = s;
        double n2 = 0;
        foreach (double v in _mu) n2 += v * v;
        MuNormSquared = n2;
        var means = new double[2 * _mu.Length];
        for (int j = 0; j < _mu.Length; j++)
        {
            means[j] = _mu[j];
            means[_mu.Length + j] = -_mu[j];
        }
        _data = GaussianMixtureDenoiser.Isotropic([0.5, 0.5], means, [s, s]);
    }

    /// <summary>The data law q = 1/2 N(+mu, s^2 I) + 1/2 N(-mu, s^2 I) as a marginal density (P_t is its marginal at
    /// m = e^-t, sigma = sqrt(1 - e^-2t)).</summary>
    public IMarginalDensity Data => _data;

    /// <summary>The dimension d.</summary>
    public int Dimension => _mu.Length;

    /// <summary>The mean mu of the "+" component.</summary>
    public ReadOnlySpan<double> Mu => _mu;

    /// <summary>The component standard deviation s.</summary>
    public double S { get; }

    /// <summary>|mu|^2.</summary>
    public double MuNormSquared { get; }

    /// <summary>
    /// Lambda, the top eigenvalue of the data covariance mu mu^T + s^2 I, which is |mu|^2 + s^2.
    /// </summary>
    public double TopCovarianceEigenvalue => MuNormSquared + S * S;

    /// <summary>Delta_t = 1 - e^-2t, the variance the OU process adds by time t.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is negative or not finite.</exception>
    public static double AddedVariance(double t)
    {
        CheckTime(t, nameof(t));
        return -ElementaryFunctions.ExpM1(-2 * t);
    }

    /// <summary>Sigma_t = 1 - e^-2t + s^2 e^-2t, the per-coordinate variance of each component of P_t.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is negative or not finite.</exception>
    public double ComponentVariance(double t) => AddedVariance(t) + S * S * Math.Exp(-2 * t);

    /// <summary>Writes ln P_t(x) for every row of <paramref name="x"/>.</summary>
    /// <param name="x">Rows, row-major, length a positive multiple of <see cref="Dimension"/>.</param>
    /// <param name="t">Time t &gt;= 0 (t = 0 gives the data density q).</param>
    /// <param name="destination">One entry per row.</param>
    /// <exception cref="ArgumentException">Mis-sized spans.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is negative or not finite.</exception>
    public void LogDensity(ReadOnlySpan<double> x, double t, Span<double> destination)
    {
        CheckRows(x, destination.Length, 1, nameof(destination));
        _data.LogDensity(x, Math.Exp(-t), Math.Sqrt(AddedVariance(t)), destination);
    }

    /// <summary>Writes the score grad ln P_t(x) = [tanh(x . mu_t / Sigma_t) mu_t - x] / Sigma_t for every row.</summary>
    /// <param name="x">Rows, row-major, length a positive multiple of <see cref="Dimension"/>.</param>
    /// <param name="t">Time t &gt;= 0.</param>
    /// <param name="destination">Same length as <paramref name="x"/>; must not overlap it.</param>
    /// <exception cref="ArgumentException">Mis-sized spans.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is negative or not finite.</exception>
    public void Score(ReadOnlySpan<double> x, double t, Span<double> destination)
    {
        CheckRows(x, destination.Length, Dimension, nameof(destination));
        _data.Score(x, Math.Exp(-t), Math.Sqrt(AddedVariance(t)), destination);
    }

    /// <summary>Fills <paramref name="destination"/> with independent rows drawn from P_t (t = 0: the data q).</summary>
    /// <param name="random">The random source.</param>
    /// <param name="t">Time t &gt;= 0.</param>
    /// <param name="destination">Rows to fill; length a positive multiple of <see cref="Dimension"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="random"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is mis-sized.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is negative or not finite.</exception>
    public void Sample(Random random, double t, Span<double> destination)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (destination.Length == 0 || destination.Length % Dimension != 0)
            throw new ArgumentException($"The destination length {destination.Length} is not a positive multiple of the dimension {Dimension}.", nameof(destination));
        double m = Math.Exp(-t), sigma = Math.Sqrt(AddedVariance(t));
        _data.SampleData(random, destination);
        AuxiliaryStartModel.SampleForwardMarginal(destination, Dimension, m, sigma, 1, random).CopyTo(destination);
    }

    /// <summary>
    /// The differential entropy of P_t per dimension, -(1/d) integral P_t ln P_t dx, computed exactly up to quadrature:
    /// along mu the law is a 1-D mixture (composite Simpson on 4000 intervals over +-(|mu_t| + 12 sqrt(Sigma_t))); the
    /// d - 1 orthogonal directions are Gaussian with variance Sigma_t.
    /// </summary>
    /// <param name="t">Time t &gt;= 0.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is negative or not finite.</exception>
    public double EntropyPerDimension(double t)
    {
        double sig = ComponentVariance(t);
        double a = Math.Sqrt(MuNormSquared) * Math.Exp(-t);
        double half = a + 12 * Math.Sqrt(sig);
        const int intervals = 4000;
        double h = 2 * half / intervals, sum = 0;
        // The projection on mu / |mu| is the 1-D mixture 1/2 N(+a, Sigma_t) + 1/2 N(-a, Sigma_t).
        var along1D = GaussianMixtureDenoiser.Isotropic([0.5, 0.5], [a, -a], [Math.Sqrt(sig), Math.Sqrt(sig)]);
        var u = new double[intervals + 1];
        for (int i = 0; i <= intervals; i++) u[i] = -half + i * h;
        var lp = new double[u.Length];
        along1D.LogDensity(u, 1, 0, lp);
        for (int i = 0; i <= intervals; i++)
        {
            double f = -Math.Exp(lp[i]) * lp[i];
            double w = i == 0 || i == intervals ? 1 : (i % 2 == 1 ? 4 : 2);
            sum += w * f;
        }
        double along = sum * h / 3;
        double across = 0.5 * (Dimension - 1) * Math.Log(2 * Math.PI * Math.E * sig);
        return (along + across) / Dimension;
    }

    internal static void CheckTime(double t, string name)
    {
        if (!double.IsFinite(t) || t < 0)
            throw new ArgumentOutOfRangeException(name, t, "The time must be finite and non-negative.");
    }

    private int CheckRows(ReadOnlySpan<double> x, int destinationLength, int perRow, string destinationName)
    {
        if (x.Length == 0 || x.Length % Dimension != 0)
            throw new ArgumentException($"The input length {x.Length} is not a positive multiple of the dimension {Dimension}.", nameof(x));
        int rows = x.Length / Dimension;
        if (destinationLength != rows * perRow)
            throw new ArgumentException($"The destination length {destinationLength} should be {rows * perRow}.", destinationName);
        return rows;
    }
}
