using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;
using MLExtensions.Diffusion.Transport;

namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// The optimal-transport path of Gaussian data N(mu, C) (full covariance) to N(0, I) (SPEC section 4):
/// P_t = ((1 - u) Id + u T*)# q with the linear Bures map T*(x) = A (x - mu), A = C^-1/2, u = t / tau.
/// </summary>
/// <remarks>
/// <para>Ikeda, Uda, Okanohara, Ito, arXiv:2407.04495 (optimal protocol). The map comes from
/// <see cref="GaussianWasserstein.OptimalMap"/>. With M_u = (1 - u) I + u A the marginals are Gaussian,
/// P_t = N((1 - u) mu, M_u C M_u), and the velocity field is affine and a gradient field:
/// nu_t(x) = [(A - I) M_u^-1 (x - (1 - u) mu) - mu] / tau. Every particle moves on a straight line at constant speed,
/// so integral |nu_t|^2 P_t dx = W2(q, N(0, I))^2 / tau^2 at every t. For isotropic data N(mu0, s0^2 I) this is the
/// path of <see cref="Schedules.GaussianOtSchedule"/>.</para>
/// <para>The path is regular at u = 1: <see cref="EndTime"/> = tau. Immutable and thread-safe.</para>
/// </remarks>
public sealed class GaussianOptimalTransportPath : IVelocityField
{
    private readonly double[] _mean;
    private readonly double[] _covariance;
    private readonly Matrix<double> _eigenvectors;
    private readonly double[] _mapEigenvalues;

    /// <summary>Creates the OT path of N(<paramref name="mean"/>, <paramref name="covariance"/>).</summary>
    /// <param name="mean">The data mean mu, length d, finite.</param>
    /// <param name="covariance">The data covariance C, row-major d x d, symmetric positive definite.</param>
    /// <param name="tau">The final time, finite and positive.</param>
    /// <exception cref="ArgumentException">The mean is empty or non-finite; the covariance is mis-sized, non-finite,
    /// not symmetric or not positive definite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="tau"/> is not finite and positive.</exception>
    public GaussianOptimalTransportPath(ReadOnlySpan<double> mean, ReadOnlySpan<double> covariance, double tau = 1.0)
    {
        if (!double.IsFinite(tau) || tau <= 0)
            throw new ArgumentOutOfRangeException(nameof(tau), tau, "The final time tau must be finite and positive.");
        if (mean.Length == 0) throw new ArgumentException("The mean must not be empty.", nameof(mean));
        int d = mean.Length;
        var identity = new double[d * d];
        for (int i = 0; i < d; i++) identity[i * d + i] = 1;
        BuresMap map;
        try
        {
            map = GaussianWasserstein.OptimalMap(mean, covariance, new double[d], identity, d);
        }
        catch (ArgumentException e) when (e.ParamName is "mean1" or "covariance1")
        {
            string name = e.ParamName == "mean1" ? nameof(mean) : nameof(covariance);
            throw new ArgumentException(e.Message.Replace(e.ParamName!, name), name, e);
        }
        Tau = tau;
        Dimension = d;
        _mean = mean.ToArray();
        _covariance = covariance.ToArray();
        Matrix<double> a = Matrix<double>.Build.Dense(d, d, (i, j) => map.LinearPart[i * d + j]);
        Evd<double> evd = a.Evd(Symmetricity.Symmetric);
        _eigenvectors = evd.EigenVectors;
        _mapEigenvalues = new double[d];
        for (int i = 0; i < d; i++) _mapEigenvalues[i] = evd.EigenValues[i].Real;
        TransportMatrix = map.LinearPart.ToArray();
        double w2 = 0;
        for (int i = 0; i < d; i++) w2 += _mean[i] * _mean[i];
        // tr((A - I) C (A - I)) = sum over the eigenbasis of A (C = A^-2): (a_i - 1)^2 / a_i^2.
        foreach (double ai in _mapEigenvalues) w2 += (ai - 1) * (ai - 1) / (ai * ai);
        SquaredDistanceToNoise = w2;
    }

    /// <summary>The final time tau.</summary>
    public double Tau { get; }

    /// <inheritdoc />
    public int Dimension { get; }

    /// <summary>The end of the path, tau (regular at u = 1).</summary>
    public double EndTime => Tau;

    /// <summary>The Bures map's linear part A = C^-1/2 (row-major d x d): T*(x) = A (x - mu).</summary>
    public IReadOnlyList<double> TransportMatrix { get; }

    /// <summary>W2(q, N(0, I))^2 = |mu|^2 + tr((A - I) C (A - I)).</summary>
    public double SquaredDistanceToNoise { get; }

    /// <summary>The kinetic cost integral_0^tau integral |nu_t|^2 P_t dx dt = W2^2 / tau (constant-speed geodesic).</summary>
    public double KineticCost => SquaredDistanceToNoise / Tau;

    /// <summary>The mean (1 - u) mu of P_t.</summary>
    /// <param name="t">The time, in [0, tau].</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is outside [0, tau].</exception>
    public double[] MarginalMean(double t)
    {
        double u = FractionOf(t);
        var m = new double[Dimension];
        for (int i = 0; i < Dimension; i++) m[i] = (1 - u) * _mean[i];
        return m;
    }

    /// <summary>The covariance M_u C M_u of P_t, row-major d x d.</summary>
    /// <param name="t">The time, in [0, tau].</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is outside [0, tau].</exception>
    public double[] MarginalCovariance(double t)
    {
        double u = FractionOf(t);
        int d = Dimension;
        Matrix<double> c = Matrix<double>.Build.Dense(d, d, (i, j) => _covariance[i * d + j]);
        Matrix<double> mu = SpectralFunction(g => (1 - u) + u * g);
        Matrix<double> s = mu * c * mu;
        var result = new double[d * d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) result[i * d + j] = 0.5 * (s[i, j] + s[j, i]);
        return result;
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The input is empty, mis-sized or non-finite, or the lengths differ.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is outside [0, tau].</exception>
    public void Velocity(ReadOnlySpan<double> x, double t, Span<double> velocity)
    {
        int d = Dimension;
        if (x.Length == 0 || x.Length % d != 0)
            throw new ArgumentException($"The input length {x.Length} is not a positive multiple of the dimension {d}.", nameof(x));
        if (velocity.Length != x.Length)
            throw new ArgumentException($"The destination length {velocity.Length} differs from the input length {x.Length}.", nameof(velocity));
        double u = FractionOf(t);
        Matrix<double> b = SpectralFunction(g => (g - 1) / ((1 - u) + u * g));
        var rowMatrix = new double[d * d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) rowMatrix[i * d + j] = b[i, j] / Tau;
        for (int r = 0; r < x.Length / d; r++)
        {
            ReadOnlySpan<double> row = x.Slice(r * d, d);
            Span<double> v = velocity.Slice(r * d, d);
            for (int i = 0; i < d; i++)
            {
                double acc = -_mean[i] / Tau;
                for (int j = 0; j < d; j++)
                {
                    double xj = row[j];
                    if (!double.IsFinite(xj)) throw new ArgumentException($"Row {r} holds a non-finite value.", nameof(x));
                    acc += rowMatrix[i * d + j] * (xj - (1 - u) * _mean[j]);
                }
                v[i] = acc;
            }
        }
    }

    private Matrix<double> SpectralFunction(Func<double, double> g)
    {
        var diag = Matrix<double>.Build.DiagonalOfDiagonalArray(Array.ConvertAll(_mapEigenvalues, a => g(a)));
        return _eigenvectors * diag * _eigenvectors.Transpose();
    }

    private double FractionOf(double t)
    {
        if (!(t >= 0 && t <= Tau)) throw new ArgumentOutOfRangeException(nameof(t), t, $"The time must lie in [0, {Tau}].");
        return t / Tau;
    }
}
