using MathNet.Numerics.LinearAlgebra;
using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Transport;

namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// The 2-Wasserstein speed v2(t) = lim W2(P_t, P_{t+dt}) / dt of a path of marginals (SPEC section 2), its path length
/// L = integral v2 dt, the W2 distance between two marginals of a schedule, and the efficiency W2(q, P_tau)^2 / (tau c2)
/// (SPEC section 3).
/// </summary>
/// <remarks>
/// <para>By Benamou-Brenier, v2(t)^2 is the kinetic energy of the gradient velocity field that moves P_t; for any
/// other field with the same continuity equation, integral |nu|^2 P &gt;= v2^2 (the local speed limit T Sdot &gt;= v2^2 of
/// Ikeda et al., arXiv:2407.04495, eq. 11).</para>
/// <para>Three ways to compute it. Gaussian paths: exactly, from the Bures metric (<see cref="GaussianPath"/>). One
/// dimension: from the quantile functions, independently of any velocity field (<see cref="OneDimensional"/>).
/// Otherwise: from samples by discrete optimal transport between two times (<see cref="FromSamples"/>; biased, see there).</para>
/// </remarks>
public static class WassersteinSpeed
{
    /// <summary>Relative time step of the finite differences in <see cref="OneDimensional"/>: h = 1e-4 MaxTime.</summary>
    public const double RelativeTimeStep = 1e-4;

    /// <summary>
    /// The exact W2 speed of a Gaussian path N(mu(t), S(t)): v2^2 = |mu'|^2 + tr(L S L), where the symmetric L solves the
    /// Lyapunov equation L S + S L = S' (the velocity field mu' + L (x - mu) is the gradient field that moves the path;
    /// Takatsu, Osaka J. Math. 48 (2011); Malago, Montrucchio, Pistone, Inf. Geom. 1 (2018)).
    /// </summary>
    /// <param name="mean">mu(t), length d.</param>
    /// <param name="meanDot">mu'(t), length d.</param>
    /// <param name="covariance">S(t), row-major d x d, symmetric positive definite.</param>
    /// <param name="covarianceDot">S'(t), row-major d x d, symmetric.</param>
    /// <param name="dimension">d, positive.</param>
    /// <returns>v2 &gt;= 0.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is not positive.</exception>
    /// <exception cref="ArgumentException">A length is wrong, a value is not finite, a matrix is not symmetric, or the
    /// covariance is not positive definite (the message names the argument).</exception>
    public static double GaussianPath(ReadOnlySpan<double> mean, ReadOnlySpan<double> meanDot, ReadOnlySpan<double> covariance, ReadOnlySpan<double> covarianceDot, int dimension)
    {
        if (dimension <= 0) throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "'dimension' must be positive.");
        RequireFinite(mean, dimension, nameof(mean));
        RequireFinite(meanDot, dimension, nameof(meanDot));
        var s = ReadSymmetric(covariance, dimension, nameof(covariance));
        var sDot = ReadSymmetric(covarianceDot, dimension, nameof(covarianceDot));
        var evd = s.Evd(Symmetricity.Symmetric);
        var u = evd.EigenVectors;
        var lambda = evd.EigenValues.Map(c => c.Real);
        if (!(lambda.Minimum() > 0))
            throw new ArgumentException($"The covariance must be positive definite, but its smallest eigenvalue is {lambda.Minimum()}.", nameof(covariance));
        var rotated = u.TransposeThisAndMultiply(sDot * u);
        double v2 = 0;
        for (int i = 0; i < dimension; i++) v2 += meanDot[i] * meanDot[i];
        for (int i = 0; i < dimension; i++)
            for (int j = 0; j < dimension; j++)
            {
                double l = rotated[i, j] / (lambda[i] + lambda[j]);
                v2 += l * l * lambda[j];
            }
        return Math.Sqrt(v2);
    }

    /// <summary>
    /// The exact W2 speed of the marginals N(m mu0, m^2 C + sigma^2 I) of Gaussian data N(mu0, C) under a schedule;
    /// for C = s0^2 I it is sqrt(mdot^2 |mu0|^2 + d (dS/dt)^2), S = sqrt(m^2 s0^2 + sigma^2) (SPEC section 8).
    /// </summary>
    /// <param name="schedule">The schedule.</param>
    /// <param name="data">The Gaussian data law.</param>
    /// <param name="t">Time in [0, MaxTime].</param>
    /// <returns>v2(t).</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is NaN or outside [0, MaxTime].</exception>
    public static double Gaussian(NoiseSchedule schedule, GaussianDenoiser data, double t)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(data);
        CheckClosedTime(schedule, t, nameof(t));
        int d = data.Dimension;
        double m = schedule.M(t), sigma = schedule.Sigma(t), mDot = schedule.MDot(t);
        // sigma sigmadot = T + sigma^2 mdot / m (the definition of T_t), finite at sigma = 0 even where sigmadot is not (VP).
        double sigmaSigmaDot = schedule.Temperature(t) + sigma * sigma * schedule.DriftRate(t);
        var (mean, cov) = Marginal(data, m, sigma);
        var meanDot = new double[d];
        var covDot = new double[d * d];
        double[,] c = data.GetCovariance();
        for (int i = 0; i < d; i++)
        {
            meanDot[i] = mDot * data.Mean[i];
            for (int j = 0; j < d; j++) covDot[i * d + j] = 2 * m * mDot * c[i, j] + (i == j ? 2 * sigmaSigmaDot : 0);
        }
        return GaussianPath(mean, meanDot, cov, covDot, d);
    }

    /// <summary>
    /// The W2 speed of the marginals of one-dimensional data, from the quantile functions:
    /// v2^2 = integral_0^1 (dQ_t(u)/dt)^2 du = integral (dF_t(x)/dt)^2 / P_t(x) dx, by the implicit-function derivative
    /// dQ/dt = -(dF_t/dt) / P_t at x = Q_t(u).
    /// </summary>
    /// <remarks>
    /// dF_t/dt is a second-order finite difference of the CDFs in time (central, one-sided at the ends of [0, MaxTime]) with
    /// h = <see cref="RelativeTimeStep"/> MaxTime, the CDFs by the cumulative trapezoid rule on a common uniform x-grid (the
    /// lower tail cumulated from the left, the upper from the right to keep relative accuracy), the grid doubled until the
    /// result changes by less than 1e-9 relative. The only inputs are log-densities, so this is independent of the
    /// velocity field; the error is O(h^2). In one dimension every field is a gradient, so v2^2 equals the kinetic energy
    /// of <see cref="EntropyProduction.Rate"/>.
    /// </remarks>
    /// <param name="schedule">The schedule.</param>
    /// <param name="density">The one-dimensional data law.</param>
    /// <param name="t">Time in [0, MaxTime].</param>
    /// <returns>v2(t).</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="density"/> is not one-dimensional.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is NaN or outside [0, MaxTime].</exception>
    public static double OneDimensional(NoiseSchedule schedule, IMarginalDensity density, double t)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        var grid = MarginalGrid.For(density, nameof(density));
        CheckClosedTime(schedule, t, nameof(t));
        double h = RelativeTimeStep * schedule.MaxTime;
        // Stencil times and weights of a second-order first derivative.
        double[] times, coef;
        if (t - h >= 0 && t + h <= schedule.MaxTime) { times = [t - h, t + h]; coef = [-0.5 / h, 0.5 / h]; }
        else if (t - h < 0) { times = [t, t + h, t + 2 * h]; coef = [-1.5 / h, 2 / h, -0.5 / h]; }
        else { times = [t, t - h, t - 2 * h]; coef = [1.5 / h, -2 / h, 0.5 / h]; }
        double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
        foreach (double s in times.Append(t))
        {
            var (a, b) = grid.Range(schedule.M(s), schedule.Sigma(s));
            lo = Math.Min(lo, a);
            hi = Math.Max(hi, b);
        }
        double previous = double.NaN;
        for (int n = MarginalGrid.MinPoints; n <= MarginalGrid.MaxPoints; n = 2 * n - 1)
        {
            var x = new double[n];
            double dx = MarginalGrid.Fill(lo, hi, x);
            var p = new double[n];
            var lower = new double[n];
            var upper = new double[n];
            var dLower = new double[n];
            var dUpper = new double[n];
            for (int k = 0; k < times.Length; k++)
            {
                density.LogDensity(x, schedule.M(times[k]), schedule.Sigma(times[k]), p);
                for (int i = 0; i < n; i++) p[i] = Math.Exp(p[i]);
                MarginalGrid.Cdf(p, lower, upper);
                for (int i = 0; i < n; i++)
                {
                    dLower[i] += coef[k] * lower[i];
                    dUpper[i] += coef[k] * upper[i];
                }
            }
            density.LogDensity(x, schedule.M(t), schedule.Sigma(t), p);
            double mass = 0;
            for (int i = 0; i < n; i++) { p[i] = Math.Exp(p[i]); mass += p[i]; }
            mass *= dx;
            MarginalGrid.Cdf(p, lower, upper);
            double sum = 0;
            for (int i = 0; i < n; i++)
            {
                double density_i = p[i] / mass;
                if (!(density_i > 1e-280)) continue;
                double dF = lower[i] <= 0.5 ? dLower[i] : -dUpper[i];
                sum += dF * dF / density_i;
            }
            double v2 = sum * dx;
            if (Math.Abs(v2 - previous) <= 1e-9 * v2) return Math.Sqrt(v2);
            previous = v2;
        }
        return Math.Sqrt(previous);
    }

    /// <summary>
    /// A sample-based speed estimate W2(a, b) / dt between samples a of P_t and b of P_{t+dt} (exact 1-D W2 of the
    /// empirical laws when d = 1, otherwise the assignment problem of <see cref="DiscreteOptimalTransport"/>).
    /// </summary>
    /// <remarks>
    /// Biased, in two ways. Independent samples: W2 between two n-samples of the same law is positive (about n^-1/2 in
    /// one dimension, n^-1/d for d &gt;= 3), so the estimate is biased upward by about that divided by dt: dt must be large
    /// against the sampling noise, which brings in the O(dt) curvature error of a chord. Coupled samples (the same (y, eps)
    /// at both times): for dt small against the spacing of the points the optimal assignment is the identity and the
    /// estimate tends to the root-mean-square conditional velocity sqrt(E|mdot y + sigmadot eps|^2), which exceeds v2.
    /// Samples moved by a common monotone map (e.g. quantile coupling in one dimension) have neither bias.
    /// </remarks>
    /// <param name="samplesAtT">Rows from P_t, row-major.</param>
    /// <param name="samplesLater">Rows from P_{t+dt}; the same count when d &gt; 1.</param>
    /// <param name="dimension">d, positive.</param>
    /// <param name="dt">The time difference, finite and positive.</param>
    /// <returns>The speed estimate.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> or <paramref name="dt"/> is out of range.</exception>
    /// <exception cref="ArgumentException">A sample set is empty, mis-sized or not finite (see the transport routines).</exception>
    public static double FromSamples(ReadOnlySpan<double> samplesAtT, ReadOnlySpan<double> samplesLater, int dimension, double dt)
    {
        if (dimension <= 0) throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "'dimension' must be positive.");
        if (!double.IsFinite(dt) || dt <= 0) throw new ArgumentOutOfRangeException(nameof(dt), dt, "'dt' must be finite and positive.");
        double w = dimension == 1 ? Wasserstein1D.W2(samplesAtT, samplesLater) : DiscreteOptimalTransport.W2(samplesAtT, samplesLater, dimension);
        return w / dt;
    }

    /// <summary>
    /// The path length L = integral v2 dt (or the thermodynamic length integral sqrt(T Sdot) dt, for that speed) by the
    /// graded Gauss-Legendre rule of the entropy-production integrals.
    /// </summary>
    /// <param name="speed">The speed as a function of time; evaluated strictly inside the interval.</param>
    /// <param name="tStart">Start time, finite.</param>
    /// <param name="tEnd">End time, finite and above <paramref name="tStart"/>.</param>
    /// <param name="endCutoff">Relative width of the end slivers left out, in (0, 0.01].</param>
    /// <returns>L over [tStart + delta, tEnd - delta], delta = endCutoff (tEnd - tStart).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="speed"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The interval or cut-off is out of range or NaN.</exception>
    /// <exception cref="ArgumentException">The speed returned a negative or non-finite value.</exception>
    public static double PathLength(Func<double, double> speed, double tStart, double tEnd, double endCutoff = EntropyProduction.DefaultEndCutoff)
    {
        ArgumentNullException.ThrowIfNull(speed);
        GradedTimeQuadrature.Validate(tStart, tEnd, double.IsFinite(tEnd) ? tEnd : double.MaxValue, endCutoff, "the path");
        var rule = GradedTimeQuadrature.Create(tStart, tEnd, endCutoff);
        double length = 0;
        for (int k = 0; k < rule.Nodes.Length; k++)
        {
            double v = speed(rule.Nodes[k]);
            if (!double.IsFinite(v) || v < 0)
                throw new ArgumentException($"The speed must be finite and non-negative, but speed({rule.Nodes[k]}) = {v}.", nameof(speed));
            length += rule.Weights[k] * v;
        }
        return length;
    }

    /// <summary>
    /// The efficiency W2(q, P_tau)^2 / (tau c2) of a schedule (SPEC section 3): in (0, 1] for a conservative force, 1 for
    /// the constant-speed W2 geodesic (the OT schedule).
    /// </summary>
    /// <param name="distance">W2 between the marginals at the two ends of the interval; finite, non-negative.</param>
    /// <param name="duration">The length of the time interval (tau); finite, positive.</param>
    /// <param name="kineticCost">c2 over the same interval; finite, positive.</param>
    /// <returns>distance^2 / (duration kineticCost).</returns>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range or NaN.</exception>
    public static double Efficiency(double distance, double duration, double kineticCost)
    {
        if (!double.IsFinite(distance) || distance < 0) throw new ArgumentOutOfRangeException(nameof(distance), distance, "'distance' must be finite and non-negative.");
        if (!double.IsFinite(duration) || duration <= 0) throw new ArgumentOutOfRangeException(nameof(duration), duration, "'duration' (tau) must be finite and positive.");
        if (!double.IsFinite(kineticCost) || kineticCost <= 0) throw new ArgumentOutOfRangeException(nameof(kineticCost), kineticCost, "'kineticCost' (c2) must be finite and positive.");
        return distance * distance / (duration * kineticCost);
    }

    /// <summary>The exact (Bures) W2 between the marginals of Gaussian data at times <paramref name="t1"/> and <paramref name="t2"/>.</summary>
    /// <param name="schedule">The schedule.</param>
    /// <param name="data">The Gaussian data law.</param>
    /// <param name="t1">First time, in [0, MaxTime].</param>
    /// <param name="t2">Second time, in [0, MaxTime].</param>
    /// <returns>W2(P_t1, P_t2).</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A time is NaN or outside [0, MaxTime].</exception>
    public static double GaussianDistance(NoiseSchedule schedule, GaussianDenoiser data, double t1, double t2)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(data);
        CheckClosedTime(schedule, t1, nameof(t1));
        CheckClosedTime(schedule, t2, nameof(t2));
        var (mean1, cov1) = Marginal(data, schedule.M(t1), schedule.Sigma(t1));
        var (mean2, cov2) = Marginal(data, schedule.M(t2), schedule.Sigma(t2));
        return GaussianWasserstein.W2(mean1, cov1, mean2, cov2, data.Dimension);
    }

    /// <summary>
    /// W2 between the marginals of one-dimensional data at two times, as the L2 distance of quantile functions
    /// (<see cref="Wasserstein1D.Distance(Func{double, double}, Func{double, double}, double, int)"/>), with the quantiles
    /// from CDFs tabulated on a fine uniform grid and inverted by linear interpolation.
    /// </summary>
    /// <param name="schedule">The schedule.</param>
    /// <param name="density">The one-dimensional data law.</param>
    /// <param name="t1">First time, in [0, MaxTime].</param>
    /// <param name="t2">Second time, in [0, MaxTime].</param>
    /// <returns>W2(P_t1, P_t2).</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="density"/> is not one-dimensional.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A time is NaN or outside [0, MaxTime].</exception>
    public static double OneDimensionalDistance(NoiseSchedule schedule, IMarginalDensity density, double t1, double t2)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        var grid = MarginalGrid.For(density, nameof(density));
        CheckClosedTime(schedule, t1, nameof(t1));
        CheckClosedTime(schedule, t2, nameof(t2));
        var q1 = Quantile(schedule, density, grid, t1);
        var q2 = Quantile(schedule, density, grid, t2);
        return Wasserstein1D.Distance(q1, q2, 2);
    }

    private static Func<double, double> Quantile(NoiseSchedule schedule, IMarginalDensity density, MarginalGrid grid, double t)
    {
        double m = schedule.M(t), sigma = schedule.Sigma(t);
        var (lo, hi) = grid.Range(m, sigma);
        const int n = (1 << 16) + 1;
        var x = new double[n];
        MarginalGrid.Fill(lo, hi, x);
        var p = new double[n];
        density.LogDensity(x, m, sigma, p);
        for (int i = 0; i < n; i++) p[i] = Math.Exp(p[i]);
        var lower = new double[n];
        var upper = new double[n];
        MarginalGrid.Cdf(p, lower, upper);
        return u =>
        {
            int k = Array.BinarySearch(lower, u);
            if (k >= 0) return x[k];
            k = ~k;
            if (k == 0) return x[0];
            if (k >= n) return x[n - 1];
            double f0 = lower[k - 1], f1 = lower[k];
            return f1 > f0 ? x[k - 1] + (x[k] - x[k - 1]) * (u - f0) / (f1 - f0) : x[k];
        };
    }

    private static (double[] Mean, double[] Covariance) Marginal(GaussianDenoiser data, double m, double sigma)
    {
        int d = data.Dimension;
        double[,] c = data.GetCovariance();
        var mean = new double[d];
        var cov = new double[d * d];
        for (int i = 0; i < d; i++)
        {
            mean[i] = m * data.Mean[i];
            for (int j = 0; j < d; j++) cov[i * d + j] = m * m * c[i, j] + (i == j ? sigma * sigma : 0);
        }
        return (mean, cov);
    }

    private static void CheckClosedTime(NoiseSchedule schedule, double t, string paramName)
    {
        if (!(t >= 0 && t <= schedule.MaxTime))
            throw new ArgumentOutOfRangeException(paramName, t, $"The time must lie in [0, {schedule.MaxTime}] (MaxTime of '{schedule.Name}').");
    }

    private static void RequireFinite(ReadOnlySpan<double> v, int d, string paramName)
    {
        if (v.Length != d) throw new ArgumentException($"'{paramName}' has length {v.Length}; expected {d}.", paramName);
        for (int i = 0; i < d; i++)
            if (!double.IsFinite(v[i])) throw new ArgumentException($"'{paramName}' must be finite, but [{i}] = {v[i]}.", paramName);
    }

    private static Matrix<double> ReadSymmetric(ReadOnlySpan<double> a, int d, string paramName)
    {
        if (a.Length != d * d) throw new ArgumentException($"'{paramName}' has length {a.Length}; expected {d * d} (d x d).", paramName);
        var m = Matrix<double>.Build.Dense(d, d);
        double scale = 0;
        for (int i = 0; i < d * d; i++)
        {
            if (!double.IsFinite(a[i])) throw new ArgumentException($"'{paramName}' must be finite, but [{i}] = {a[i]}.", paramName);
            scale = Math.Max(scale, Math.Abs(a[i]));
        }
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
            {
                if (Math.Abs(a[i * d + j] - a[j * d + i]) > 1e-10 * scale)
                    throw new ArgumentException($"'{paramName}' must be symmetric, but [{i},{j}] = {a[i * d + j]} and [{j},{i}] = {a[j * d + i]}.", paramName);
                m[i, j] = 0.5 * (a[i * d + j] + a[j * d + i]);
            }
        return m;
    }
}
