using MLExtensions.Diffusion.Denoisers;

namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// The exact optimal-transport path of a 1-D data law q to N(0, 1) (SPEC section 4):
/// P_t = ((1 - u) Id + u T*)# q with u = t / tau and the monotone optimal map T* = Phi^-1 o F_q.
/// </summary>
/// <remarks>
/// <para>Ikeda, Uda, Okanohara, Ito, arXiv:2407.04495 (optimal protocol: the constant-speed 2-Wasserstein geodesic
/// from q to the noise law). In 1-D the geodesic is linear interpolation of quantile functions:
/// Q_t(p) = (1 - u) Q_q(p) + u Phi^-1(p); the CDF is F_t(x) = F_q(x0) with x0 the pre-image of x under the increasing
/// map (1 - u) Id + u T*, the density is P_t(x) = q(x0) / ((1 - u) + u T*'(x0)) with T*'(x0) = q(x0) / phi(T*(x0)),
/// and the Eulerian velocity is nu_t(x) = (T*(x0) - x0) / tau, a gradient field moving every particle at constant
/// speed, so the kinetic cost integral nu^2 P_t dx equals W2(q, N(0, 1))^2 / tau^2 at every t.</para>
/// <para>The pre-image is found by Newton's method inside an expanding bracket (bisection fallback). Unlike cosine
/// and cond-OT the path is regular at u = 1: <see cref="EndTime"/> = tau. Plugs into samplers as an
/// <see cref="IVelocityField"/> (d = 1). Immutable; thread-safe when user-given delegates are.</para>
/// </remarks>
public sealed class OptimalTransportPath1D : IVelocityField, IMarginalPath1D
{
    private const int KineticIntervals = 4000;
    private readonly ILaw1D _data;
    private readonly Lazy<double> _squaredDistance;
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<double[], double[]> _endQuantiles = new();

    private OptimalTransportPath1D(ILaw1D data, double tau, string name)
    {
        if (!double.IsFinite(tau) || tau <= 0)
            throw new ArgumentOutOfRangeException(nameof(tau), tau, "The final time tau must be finite and positive.");
        _data = data;
        Tau = tau;
        Name = name;
        _squaredDistance = new Lazy<double>(ComputeSquaredDistance);
    }

    /// <summary>Creates the OT path of a data law given by its density, CDF and quantile function.</summary>
    /// <param name="dataDensity">The data density q(x), finite and non-negative.</param>
    /// <param name="dataCdf">The data CDF F_q.</param>
    /// <param name="dataQuantile">The data quantile function Q_q on (0, 1).</param>
    /// <param name="tau">The final time, finite and positive.</param>
    /// <exception cref="ArgumentNullException">A delegate is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="tau"/> is not finite and positive.</exception>
    public OptimalTransportPath1D(Func<double, double> dataDensity, Func<double, double> dataCdf, Func<double, double> dataQuantile, double tau = 1.0)
        : this(StartPerturbation.Custom("data", dataDensity, dataCdf, dataQuantile), tau, "ot-1d")
    {
    }

    /// <summary>Creates the OT path of 1-D Gaussian-mixture data (CDF from the component normal CDFs, quantile by Newton/bisection).</summary>
    /// <param name="data">A 1-D Gaussian mixture.</param>
    /// <param name="tau">The final time, finite and positive.</param>
    /// <returns>The OT path.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="data"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="data"/> is not 1-D.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="tau"/> is not finite and positive.</exception>
    public static OptimalTransportPath1D FromGaussianMixture(GaussianMixtureDenoiser data, double tau = 1.0)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Dimension != 1) throw new ArgumentException($"The data must be 1-D (got dimension {data.Dimension}).", nameof(data));
        var means = new double[data.ComponentCount];
        var stds = new double[data.ComponentCount];
        for (int k = 0; k < means.Length; k++)
        {
            means[k] = data.Means[k];
            stds[k] = Math.Sqrt(data.GetCovariance(k)[0, 0]);
        }
        return new OptimalTransportPath1D(new GaussianMixture1D(data.Weights, means, stds), tau, "ot");
    }

    /// <summary>Creates the OT path of Gaussian data N(<paramref name="mean"/>, <paramref name="standardDeviation"/>^2).</summary>
    /// <param name="mean">The data mean, finite.</param>
    /// <param name="standardDeviation">The data standard deviation, finite and positive.</param>
    /// <param name="tau">The final time, finite and positive.</param>
    /// <returns>The OT path.</returns>
    /// <exception cref="ArgumentException"><paramref name="mean"/> is not finite or <paramref name="standardDeviation"/> is not finite and positive.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="tau"/> is not finite and positive.</exception>
    public static OptimalTransportPath1D FromGaussian(double mean, double standardDeviation, double tau = 1.0)
    {
        if (!double.IsFinite(mean)) throw new ArgumentException($"The mean must be finite (got {mean}).", nameof(mean));
        if (!double.IsFinite(standardDeviation) || standardDeviation <= 0)
            throw new ArgumentException($"The standard deviation must be finite and positive (got {standardDeviation}).", nameof(standardDeviation));
        return new OptimalTransportPath1D(new GaussianMixture1D([1.0], [mean], [standardDeviation]), tau, "ot");
    }

    /// <summary>A short name for reports.</summary>
    public string Name { get; }

    /// <summary>The final time tau; u = t / tau.</summary>
    public double Tau { get; }

    /// <inheritdoc />
    public int Dimension => 1;

    /// <summary>The end of the path, tau: the OT path is regular at u = 1.</summary>
    public double EndTime => Tau;

    /// <summary>W2(q, N(0, 1))^2 = integral (T*(x) - x)^2 q(x) dx, by composite Simpson over the data's 1e-14 tail quantiles.</summary>
    public double SquaredDistanceToNoise => _squaredDistance.Value;

    /// <summary>The kinetic cost integral_0^tau integral nu_t^2 P_t dx dt = W2(q, N(0, 1))^2 / tau of the constant-speed geodesic.</summary>
    public double KineticCost => SquaredDistanceToNoise / Tau;

    /// <summary>The optimal map T*(x0) = Phi^-1(F_q(x0)), evaluated through the upper tail above the median.</summary>
    /// <param name="x0">A data point; finite.</param>
    /// <exception cref="ArgumentException"><paramref name="x0"/> is not finite.</exception>
    public double TransportMap(double x0)
    {
        RequireFinite(x0, nameof(x0));
        return Map(x0);
    }

    /// <summary>The quantile function of P_t: Q_t(p) = (1 - u) Q_q(p) + u Phi^-1(p).</summary>
    /// <param name="p">The level, in (0, 1).</param>
    /// <param name="t">The time, in [0, tau].</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="p"/> or <paramref name="t"/> is out of range.</exception>
    public double Quantile(double p, double t)
    {
        if (!(p > 0 && p < 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "The level must lie in (0, 1).");
        double u = FractionOf(t);
        return p <= 0.5 ? QuantileAt(p, false, u) : QuantileAt(1 - p, true, u);
    }

    /// <summary>The CDF of P_t: F_t(x) = F_q(x0), x0 the pre-image of x.</summary>
    /// <param name="x">The point; finite.</param>
    /// <param name="t">The time, in [0, tau].</param>
    /// <exception cref="ArgumentException"><paramref name="x"/> is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is outside [0, tau].</exception>
    public double Cdf(double x, double t)
    {
        RequireFinite(x, nameof(x));
        return new Marginal(this, FractionOf(t)).Cdf(x);
    }

    /// <summary>The density of P_t by change of variables: q(x0) / ((1 - u) + u q(x0) / phi(T*(x0))).</summary>
    /// <param name="x">The point; finite.</param>
    /// <param name="t">The time, in [0, tau].</param>
    /// <exception cref="ArgumentException"><paramref name="x"/> is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is outside [0, tau].</exception>
    public double Density(double x, double t)
    {
        RequireFinite(x, nameof(x));
        return Math.Exp(LogDensityAt(x, FractionOf(t)));
    }

    /// <summary>The pre-image x0 of x under (1 - u) Id + u T*: the data point whose straight line passes through x at time t.</summary>
    /// <param name="x">The point; finite.</param>
    /// <param name="t">The time, in [0, tau].</param>
    /// <exception cref="ArgumentException"><paramref name="x"/> is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is outside [0, tau].</exception>
    public double PreImage(double x, double t)
    {
        RequireFinite(x, nameof(x));
        return PreImageAt(x, FractionOf(t));
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The lengths differ, or <paramref name="x"/> is empty or holds a non-finite value.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is outside [0, tau].</exception>
    public void Velocity(ReadOnlySpan<double> x, double t, Span<double> velocity)
    {
        if (x.Length == 0) throw new ArgumentException("The input must hold at least one row.", nameof(x));
        if (velocity.Length != x.Length)
            throw new ArgumentException($"The destination length {velocity.Length} differs from the input length {x.Length}.", nameof(velocity));
        double u = FractionOf(t);
        for (int i = 0; i < x.Length; i++)
        {
            RequireFinite(x[i], nameof(x));
            double x0 = PreImageAt(x[i], u);
            velocity[i] = (Map(x0) - x0) / Tau;
        }
    }

    string IMarginalPath1D.PathName => Name;

    double IMarginalPath1D.PathTau => Tau;

    double IMarginalPath1D.PathEndTime => Tau;

    ILaw1D IMarginalPath1D.MarginalAt(double t) => new Marginal(this, FractionOf(t));

    void IMarginalPath1D.QuantilesAndVelocities(double[] levels, bool[] upper, double t, Span<double> x, Span<double> velocity)
    {
        double u = FractionOf(t);
        // The end-point quantiles Q_q(p) and Phi^-1(p) do not depend on t: computed once per level array.
        double[] ends = _endQuantiles.GetValue(levels, l =>
        {
            var e = new double[2 * l.Length];
            for (int i = 0; i < l.Length; i++)
            {
                e[2 * i] = _data.Quantile(l[i], upper[i]);
                e[2 * i + 1] = GaussianMixture1D.NormalQuantile(l[i], upper[i]);
            }
            return e;
        });
        for (int i = 0; i < levels.Length; i++)
        {
            double q0 = ends[2 * i], z = ends[2 * i + 1];
            x[i] = (1 - u) * q0 + u * z;
            velocity[i] = (z - q0) / Tau;
        }
    }

    double IMarginalPath1D.KineticEnergy(double t) => SquaredDistanceToNoise / (Tau * Tau);

    private double FractionOf(double t)
    {
        if (!(t >= 0 && t <= Tau)) throw new ArgumentOutOfRangeException(nameof(t), t, $"The time must lie in [0, {Tau}].");
        return t / Tau;
    }

    private double QuantileAt(double level, bool upper, double u) =>
        (1 - u) * _data.Quantile(level, upper) + u * GaussianMixture1D.NormalQuantile(level, upper);

    private double Map(double x0)
    {
        double f = _data.Cdf(x0);
        return f <= 0.5 ? GaussianMixture1D.NormalQuantile(f, false) : GaussianMixture1D.NormalQuantile(_data.Survival(x0), true);
    }

    /// <summary>ln of the derivative (1 - u) + u q(x0) / phi(T*(x0)) of the interpolating map at x0.</summary>
    private double LogJacobian(double x0, double u)
    {
        double z = Map(x0);
        double logSlope = _data.LogDensity(x0) + 0.5 * z * z + 0.5 * Math.Log(2 * Math.PI);
        if (u == 0) return 0;
        if (u == 1) return logSlope;
        double a = Math.Log(1 - u), b = Math.Log(u) + logSlope, max = Math.Max(a, b);
        return max + Math.Log(Math.Exp(a - max) + Math.Exp(b - max));
    }

    private double LogDensityAt(double x, double u)
    {
        if (u == 1) return -0.5 * x * x - 0.5 * Math.Log(2 * Math.PI);
        double x0 = PreImageAt(x, u);
        return _data.LogDensity(x0) - LogJacobian(x0, u);
    }

    private double PreImageAt(double x, double u)
    {
        if (u == 0) return x;
        if (u == 1) return x <= 0 ? _data.Quantile(GaussianMixture1D.NormalCdf(x), false) : _data.Quantile(GaussianMixture1D.NormalCdf(-x), true);
        // g(x0) = (1 - u) x0 + u T*(x0) - x is increasing with slope >= 1 - u.
        double lo = x, hi = x, step = 1;
        while (G(lo, u, x) > 0) { hi = lo; lo -= step; step *= 2; }
        step = 1;
        while (G(hi, u, x) < 0) { lo = hi; hi += step; step *= 2; }
        double x0 = 0.5 * (lo + hi);
        for (int it = 0; it < 200; it++)
        {
            double g = G(x0, u, x);
            if (g == 0) return x0;
            if (g < 0) lo = x0; else hi = x0;
            double slope = Math.Exp(LogJacobian(x0, u));
            double next = x0 - g / slope;
            if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
            if (Math.Abs(next - x0) <= 1e-14 * (1 + Math.Abs(x0)) || hi - lo <= 1e-14 * (1 + Math.Abs(x0))) return next;
            x0 = next;
        }
        return x0;
    }

    private double G(double x0, double u, double x) => (1 - u) * x0 + u * Map(x0) - x;

    private double ComputeSquaredDistance()
    {
        double lo = _data.Quantile(1e-14, false), hi = _data.Quantile(1e-14, true);
        double h = (hi - lo) / KineticIntervals, sum = 0;
        for (int i = 0; i <= KineticIntervals; i++)
        {
            double x0 = lo + i * h, d = Map(x0) - x0;
            double w = i == 0 || i == KineticIntervals ? 1 : (i % 2 == 1 ? 4 : 2);
            sum += w * d * d * Math.Exp(_data.LogDensity(x0));
        }
        return sum * h / 3;
    }

    private static void RequireFinite(double value, string name)
    {
        if (!double.IsFinite(value)) throw new ArgumentException($"The value must be finite (got {value}).", name);
    }

    /// <summary>P_t at a fixed u as an <see cref="ILaw1D"/>.</summary>
    private sealed class Marginal(OptimalTransportPath1D path, double u) : ILaw1D
    {
        public double LogDensity(double x) => path.LogDensityAt(x, u);

        public double Cdf(double x) => u == 1 ? GaussianMixture1D.NormalCdf(x) : path._data.Cdf(path.PreImageAt(x, u));

        public double Survival(double x) => u == 1 ? GaussianMixture1D.NormalCdf(-x) : path._data.Survival(path.PreImageAt(x, u));

        public double Quantile(double level, bool upper) => path.QuantileAt(level, upper, u);
    }
}
