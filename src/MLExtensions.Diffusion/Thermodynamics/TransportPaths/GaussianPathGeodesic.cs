using MathNet.Numerics.Integration;
using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// The Gaussian path x = m y + sigma eps from the data (m, sigma) = (1, 0) to pure noise (0, 1) of least length, hence
/// least kinetic cost c2, under a Gaussian-path metric (<see cref="IGaussianPathMetric"/>): a path toward the
/// 2-Wasserstein geodesic that a denoiser conditioned on (m, sigma) can follow (SPEC sections 2-4).
/// </summary>
/// <remarks>
/// <para>Parametrisation. Paths are written in polar form m = a(phi) cos(phi), sigma = a(phi) sin(phi), phi in
/// [0, pi/2], a(0) = a(pi/2) = 1, so sigma/m = tan(phi) increases and every path is a valid schedule (T_t &gt;= 0).
/// The metric coefficients depend on phi only, and with rho = ln a the length element is
/// dl = a sqrt(G_aa rho'^2 + 2 G_aphi rho' + G_phiphi) dphi, where (c = cos phi, s = sin phi)
/// G_aa = A c^2 + 2 B c s + C s^2, G_aphi = (C - A) c s + B (c^2 - s^2), G_phiphi = A s^2 - 2 B c s + C c^2.
/// rho is expanded as rho(phi) = x (1 - x) sum_{k &lt; K} c_k T_k(2 x - 1), x = 2 phi / pi, with Chebyshev polynomials
/// T_k: it vanishes at both ends for every c, and converges spectrally for analytic rho (the Gaussian OT path has one).
/// c = 0 is the variance-preserving arc (cosine).</para>
/// <para>Minimisation. L(c) is a composite 8-point Gauss-Legendre sum on equal panels of [0, pi/2]; the metric is
/// evaluated once, at these nodes, so a Monte Carlo metric costs a fixed number of denoiser passes. L and its exact
/// gradient in c are minimised by BFGS with a backtracking (Armijo) line search from c = 0, stopping when the largest
/// gradient component falls below <see cref="GaussianPathGeodesicOptions.GradientTolerance"/> times L, when five steps in a
/// row lower L by less than 1e-15 relative (rounding), or after <see cref="GaussianPathGeodesicOptions.MaxIterations"/>.</para>
/// <para>Re-timing. The path is then run at constant speed on [0, tau]: t(phi) = tau l(phi) / L, with the cumulative
/// length l at the knots from the Legendre interpolant of the speed on each panel. The kinetic energy is then L^2 / tau^2
/// at every t and c2 = L^2 / tau, the least c2 of any timing of the path (Cauchy-Schwarz). The knots give a
/// <see cref="TabulatedSchedule"/> whose last knot has m = 0.</para>
/// <para>For isotropic Gaussian data N(mu, s^2 I) the minimiser is the OT schedule (<see cref="GaussianOtSchedule"/>)
/// and c2 = W2(q, N(0, I))^2 = |mu|^2 + d (s - 1)^2 (efficiency 1). For anisotropic data the Bures geodesic scales each
/// eigen-direction differently and is not a scalar (m, sigma) path, so c2 stays above W2^2; for covariance eigenvalues
/// (0.25, 1, 4) and mean (0.5, -0.3, 0.2) the fitted c2 is 1.07 W2^2 (test
/// GaussianPathGeodesicTests.AnisotropicGaussianIsNearButAboveBures).</para>
/// </remarks>
public static class GaussianPathGeodesic
{
    /// <summary>pi / 2.</summary>
    internal const double HalfPi = Math.PI / 2;

    private const int Order = 8;

    /// <summary>Fits the least-length Gaussian path under <paramref name="metric"/> and re-times it at constant speed.</summary>
    /// <param name="metric">The metric (evaluated at 8 <see cref="GaussianPathGeodesicOptions.Panels"/> points inside
    /// (0, pi/2)).</param>
    /// <param name="options">Settings; null for the defaults.</param>
    /// <returns>The fitted schedule, its length and kinetic cost, and the lengths of the cosine and cond-OT paths.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="metric"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (the message names it).</exception>
    /// <exception cref="ArgumentException">The metric returned non-finite coefficients or a negative A or C, or the
    /// metric vanishes along the whole path (length 0); or <see cref="TabulatedSchedule"/> rejected the knots (its
    /// interval check of sigma/m, possible only for a metric so rough that the interpolant overshoots: raise
    /// <see cref="GaussianPathGeodesicOptions.KnotsPerPanel"/>).</exception>
    public static GaussianPathGeodesicResult Fit(IGaussianPathMetric metric, GaussianPathGeodesicOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(metric);
        options ??= new GaussianPathGeodesicOptions();
        Validate(options);
        int panels = options.Panels, k = options.BasisFunctions;
        var rule = new GaussLegendreRule(-1, 1, Order);
        double h = HalfPi / panels / 2; // half panel width
        int q = panels * Order;
        var phi = new double[q];
        var w = new double[q];
        var gaa = new double[q];
        var gap = new double[q];
        var gpp = new double[q];
        for (int p = 0; p < panels; p++)
        {
            double mid = (2 * p + 1) * h;
            for (int j = 0; j < Order; j++)
            {
                int i = p * Order + j;
                phi[i] = mid + h * rule.Abscissas[j];
                w[i] = h * rule.Weights[j];
                GaussianPathCoefficients g = metric.Coefficients(phi[i]);
                if (!g.IsValid)
                    throw new ArgumentException(
                        $"The metric returned invalid coefficients (A = {g.A}, B = {g.B}, C = {g.C}) at phi = {phi[i]}: they must be finite with A, C >= 0.",
                        nameof(metric));
                double c = Math.Cos(phi[i]), s = Math.Sin(phi[i]);
                gaa[i] = g.A * c * c + 2 * g.B * c * s + g.C * s * s;
                gap[i] = (g.C - g.A) * c * s + g.B * (c * c - s * s);
                gpp[i] = g.A * s * s - 2 * g.B * c * s + g.C * c * c;
            }
        }

        // Basis values and phi-derivatives at the nodes.
        var basis = new double[q, k];
        var basisDerivative = new double[q, k];
        for (int i = 0; i < q; i++) Basis(phi[i], k, basis, basisDerivative, i);

        double Length(double[] coef, double[]? gradient)
        {
            if (gradient is not null) Array.Clear(gradient);
            double total = 0;
            for (int i = 0; i < q; i++)
            {
                double rho = 0, rhoDot = 0;
                for (int j = 0; j < k; j++)
                {
                    rho += coef[j] * basis[i, j];
                    rhoDot += coef[j] * basisDerivative[i, j];
                }
                double quad = Math.Max(gaa[i] * rhoDot * rhoDot + 2 * gap[i] * rhoDot + gpp[i], 0);
                double root = Math.Sqrt(quad), scale = w[i] * Math.Exp(rho);
                total += scale * root;
                if (gradient is null) continue;
                double slope = root > 0 ? (gaa[i] * rhoDot + gap[i]) / root : 0;
                for (int j = 0; j < k; j++) gradient[j] += scale * (root * basis[i, j] + slope * basisDerivative[i, j]);
            }
            return total;
        }

        double vpLength = 0, condOtLength = 0;
        for (int i = 0; i < q; i++)
        {
            vpLength += w[i] * Math.Sqrt(Math.Max(gpp[i], 0));
            double c = Math.Cos(phi[i]), s = Math.Sin(phi[i]);
            double rhoDot = (s - c) / (c + s);
            condOtLength += w[i] / (c + s) * Math.Sqrt(Math.Max(gaa[i] * rhoDot * rhoDot + 2 * gap[i] * rhoDot + gpp[i], 0));
        }
        if (!(vpLength > 0))
            throw new ArgumentException("The metric vanishes along the whole path (length 0): there is nothing to fit.", nameof(metric));

        var coefficients = new double[k];
        var (length, iterations, converged) = Bfgs(Length, coefficients, options.MaxIterations, options.GradientTolerance);

        TabulatedSchedule schedule = BuildSchedule(coefficients, phi, w, gaa, gap, gpp, basis, basisDerivative, panels, h, rule,
            length, options);
        return new GaussianPathGeodesicResult(schedule, length, options.Tau, vpLength, condOtLength, coefficients, iterations, converged);
    }

    /// <summary>rho(phi) = ln a(phi) for the coefficients, with its phi-derivative.</summary>
    internal static double LogRadius(double[] coefficients, double phi, out double derivative)
    {
        int k = coefficients.Length;
        var b = new double[1, k];
        var db = new double[1, k];
        Basis(phi, k, b, db, 0);
        double rho = 0;
        derivative = 0;
        for (int j = 0; j < k; j++)
        {
            rho += coefficients[j] * b[0, j];
            derivative += coefficients[j] * db[0, j];
        }
        return rho;
    }

    /// <summary>Writes b_j(phi) = x (1 - x) T_j(2x - 1) and d b_j / d phi, x = phi / (pi / 2), into row i.</summary>
    private static void Basis(double phi, int k, double[,] value, double[,] derivative, int i)
    {
        double x = phi / HalfPi, z = 2 * x - 1, bump = x * (1 - x), bumpDot = 1 - 2 * x;
        double tPrev = 1, t = z, dPrev = 0, d = 1; // T_0, T_1 and their z-derivatives
        for (int j = 0; j < k; j++)
        {
            double tj, dj;
            if (j == 0) { tj = 1; dj = 0; }
            else if (j == 1) { tj = z; dj = 1; }
            else
            {
                double tNext = 2 * z * t - tPrev, dNext = 2 * t + 2 * z * d - dPrev;
                tPrev = t; t = tNext; dPrev = d; d = dNext;
                tj = t; dj = d;
            }
            value[i, j] = bump * tj;
            derivative[i, j] = (bumpDot * tj + bump * 2 * dj) / HalfPi;
        }
    }

    /// <summary>BFGS on the inverse Hessian with an Armijo backtracking line search; minimises in place.</summary>
    private static (double Value, int Iterations, bool Converged) Bfgs(Func<double[], double[]?, double> f, double[] x, int maxIterations, double tolerance)
    {
        int n = x.Length;
        var g = new double[n];
        var gNew = new double[n];
        var xNew = new double[n];
        var p = new double[n];
        var s = new double[n];
        var y = new double[n];
        var hy = new double[n];
        var inverse = new double[n, n];
        for (int i = 0; i < n; i++) inverse[i, i] = 1;
        double value = f(x, g);
        bool scaled = false;
        int stalled = 0;
        for (int iteration = 0; iteration < maxIterations; iteration++)
        {
            double gMax = 0;
            for (int i = 0; i < n; i++) gMax = Math.Max(gMax, Math.Abs(g[i]));
            if (gMax <= tolerance * value) return (value, iteration, true);
            double slope = 0, pMax = 0;
            for (int i = 0; i < n; i++)
            {
                double acc = 0;
                for (int j = 0; j < n; j++) acc -= inverse[i, j] * g[j];
                p[i] = acc;
                slope += acc * g[i];
            }
            if (!(slope < 0))
            {
                Array.Clear(inverse);
                for (int i = 0; i < n; i++) { inverse[i, i] = 1; p[i] = -g[i]; }
                slope = 0;
                for (int i = 0; i < n; i++) slope -= g[i] * g[i];
            }
            for (int i = 0; i < n; i++) pMax = Math.Max(pMax, Math.Abs(p[i]));
            double alpha = pMax > 1 ? 1 / pMax : 1, trial = double.NaN;
            bool accepted = false;
            for (int back = 0; back < 60; back++, alpha *= 0.5)
            {
                for (int i = 0; i < n; i++) xNew[i] = x[i] + alpha * p[i];
                trial = f(xNew, gNew);
                if (double.IsFinite(trial) && trial <= value + 1e-4 * alpha * slope) { accepted = true; break; }
            }
            if (!accepted) return (value, iteration + 1, false);
            // Stop once rounding dominates: five accepted steps in a row that lower L by less than 1e-15 relative.
            stalled = value - trial <= 1e-15 * value ? stalled + 1 : 0;
            if (stalled >= 5)
            {
                value = trial;
                Array.Copy(xNew, x, n);
                return (value, iteration + 1, true);
            }
            double sy = 0, yy = 0;
            for (int i = 0; i < n; i++)
            {
                s[i] = xNew[i] - x[i];
                y[i] = gNew[i] - g[i];
                sy += s[i] * y[i];
                yy += y[i] * y[i];
            }
            Array.Copy(xNew, x, n);
            Array.Copy(gNew, g, n);
            value = trial;
            if (!(sy > 1e-300) || !(yy > 0)) continue;
            if (!scaled)
            {
                Array.Clear(inverse);
                for (int i = 0; i < n; i++) inverse[i, i] = sy / yy;
                scaled = true;
            }
            // H <- (I - r s y^T) H (I - r y s^T) + r s s^T, r = 1 / (s . y).
            double r = 1 / sy, yhy = 0;
            for (int i = 0; i < n; i++)
            {
                double acc = 0;
                for (int j = 0; j < n; j++) acc += inverse[i, j] * y[j];
                hy[i] = acc;
                yhy += y[i] * acc;
            }
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    inverse[i, j] += -r * (hy[i] * s[j] + s[i] * hy[j]) + (r * r * yhy + r) * s[i] * s[j];
        }
        return (value, maxIterations, false);
    }

    private static TabulatedSchedule BuildSchedule(double[] coef, double[] phi, double[] w, double[] gaa, double[] gap, double[] gpp,
        double[,] basis, double[,] basisDerivative, int panels, double h, GaussLegendreRule rule, double length,
        GaussianPathGeodesicOptions options)
    {
        int k = coef.Length, perPanel = options.KnotsPerPanel;
        double tau = options.Tau;
        if (!(length > 0) || !double.IsFinite(length))
            throw new ArgumentException($"The fitted path length is {length}; the metric must give a positive, finite length.", "metric");
        // Legendre P_n at the reference nodes and the integrals int_{-1}^{x} P_n at the sub-points of a panel.
        var legendreAtNodes = new double[Order, Order];
        for (int j = 0; j < Order; j++)
        {
            var pn = Legendre(rule.Abscissas[j], Order + 1);
            for (int n = 0; n < Order; n++) legendreAtNodes[j, n] = pn[n];
        }
        var integralAtSub = new double[perPanel, Order];
        for (int sub = 0; sub < perPanel; sub++)
        {
            double x = -1 + 2.0 * sub / perPanel;
            var pn = Legendre(x, Order + 1);
            integralAtSub[sub, 0] = x + 1;
            for (int n = 1; n < Order; n++) integralAtSub[sub, n] = (pn[n + 1] - pn[n - 1]) / (2 * n + 1);
        }

        var knotPhi = new List<double>(panels * perPanel + 1);
        var knotLength = new List<double>(panels * perPanel + 1);
        double cumulative = 0;
        var speed = new double[Order];
        var legendreCoef = new double[Order];
        for (int p = 0; p < panels; p++)
        {
            for (int j = 0; j < Order; j++)
            {
                int i = p * Order + j;
                double rho = 0, rhoDot = 0;
                for (int b = 0; b < k; b++)
                {
                    rho += coef[b] * basis[i, b];
                    rhoDot += coef[b] * basisDerivative[i, b];
                }
                speed[j] = Math.Exp(rho) * Math.Sqrt(Math.Max(gaa[i] * rhoDot * rhoDot + 2 * gap[i] * rhoDot + gpp[i], 0));
            }
            for (int n = 0; n < Order; n++)
            {
                double acc = 0;
                for (int j = 0; j < Order; j++) acc += rule.Weights[j] * speed[j] * legendreAtNodes[j, n];
                legendreCoef[n] = 0.5 * (2 * n + 1) * acc;
            }
            for (int sub = 0; sub < perPanel; sub++)
            {
                double partial = 0;
                for (int n = 0; n < Order; n++) partial += legendreCoef[n] * integralAtSub[sub, n];
                knotPhi.Add(2 * p * h + 2 * h * sub / perPanel);
                knotLength.Add(cumulative + h * partial);
            }
            double panelLength = 0;
            for (int j = 0; j < Order; j++) panelLength += w[p * Order + j] * speed[j];
            cumulative += panelLength;
        }

        var times = new List<double> { 0 };
        var m = new List<double> { 1 };
        var sigma = new List<double> { 0 };
        double minGap = 1e-12 * tau;
        for (int i = 1; i < knotPhi.Count; i++)
        {
            double t = tau * knotLength[i] / length;
            if (!(t > times[^1] + minGap) || !(t < tau - minGap)) continue;
            double a = Math.Exp(LogRadius(coef, knotPhi[i], out _));
            times.Add(t);
            m.Add(a * Math.Cos(knotPhi[i]));
            sigma.Add(a * Math.Sin(knotPhi[i]));
        }
        times.Add(tau);
        m.Add(0);
        sigma.Add(1);
        double cutoff = Math.Min(options.EndCutoff, 0.5 * (tau - times[^2]) / tau);
        return new TabulatedSchedule(times.ToArray(), m.ToArray(), sigma.ToArray(), cutoff);
    }

    /// <summary>P_0 .. P_{count-1} at x by the three-term recurrence.</summary>
    private static double[] Legendre(double x, int count)
    {
        var p = new double[count];
        p[0] = 1;
        if (count > 1) p[1] = x;
        for (int n = 1; n + 1 < count; n++) p[n + 1] = ((2 * n + 1) * x * p[n] - n * p[n - 1]) / (n + 1);
        return p;
    }

    private static void Validate(GaussianPathGeodesicOptions o)
    {
        if (o.BasisFunctions < 1)
            throw new ArgumentOutOfRangeException(nameof(o.BasisFunctions), o.BasisFunctions, "'BasisFunctions' must be at least 1.");
        if (o.Panels < 2)
            throw new ArgumentOutOfRangeException(nameof(o.Panels), o.Panels, "'Panels' must be at least 2.");
        if (o.KnotsPerPanel < 1)
            throw new ArgumentOutOfRangeException(nameof(o.KnotsPerPanel), o.KnotsPerPanel, "'KnotsPerPanel' must be at least 1.");
        if (!double.IsFinite(o.Tau) || o.Tau <= 0)
            throw new ArgumentOutOfRangeException(nameof(o.Tau), o.Tau, "'Tau' must be finite and positive.");
        if (!(o.EndCutoff > 0 && o.EndCutoff < 0.5))
            throw new ArgumentOutOfRangeException(nameof(o.EndCutoff), o.EndCutoff, "'EndCutoff' must lie in (0, 0.5).");
        if (o.MaxIterations < 1)
            throw new ArgumentOutOfRangeException(nameof(o.MaxIterations), o.MaxIterations, "'MaxIterations' must be at least 1.");
        if (!double.IsFinite(o.GradientTolerance) || o.GradientTolerance <= 0)
            throw new ArgumentOutOfRangeException(nameof(o.GradientTolerance), o.GradientTolerance, "'GradientTolerance' must be finite and positive.");
    }
}
