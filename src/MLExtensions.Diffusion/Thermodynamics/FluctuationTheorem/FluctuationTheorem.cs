using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Transport;

namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>
/// The integral fluctuation theorem &lt;exp(-s_tot)&gt; = 1 checked along single forward trajectories of the
/// Ornstein-Uhlenbeck process dX = -X dt + sqrt(2) dB started from data x_0 = y ~ q (SPEC section 2).
/// </summary>
/// <remarks>
/// <para>Stochastic entropy production of one trajectory on [0, tau]:
/// s_tot = ln P_0(x_0) - ln P_tau(x_tau) + Q, where Q is the heat to the bath (unit temperature). For the OU process
/// the force is -grad U with U = |x|^2 / 2 and no work is done, so the Stratonovich heat is exactly
/// Q = U(x_0) - U(x_tau) = (|x_0|^2 - |x_tau|^2) / 2 (<see cref="OuHeat"/>), whatever path joins the end points;
/// on an Euler-Maruyama path the midpoint (Stratonovich) sum telescopes to the same value.</para>
/// <para>Trajectories are drawn with the exact OU transition x_tau = e^-tau x_0 + sqrt(1 - e^-2tau) eps when
/// <c>steps</c> is 0, or with <c>steps</c> Euler-Maruyama steps x += -x dt + sqrt(2 dt) z otherwise (then P_tau is
/// only the law of the discrete chain up to O(dt) and &lt;exp(-s_tot)&gt; = 1 up to O(dt)).</para>
/// <para>Variance: with Gaussian data of variance v per coordinate, E[exp(-2 s_tot)] is finite for every tau exactly
/// when v &gt; 1/2; for v &lt;= 1/2 it diverges once tau is large enough and the standard error is meaningless. The
/// result then carries <see cref="FluctuationTheoremResult.InfiniteVarianceRisk"/> = true rather than throwing, so
/// the heavy tail itself can be studied (see also <see cref="FluctuationTheoremResult.EffectiveSampleSize"/>).
/// For a mixture the condition concerns the component variances, which the sample-variance heuristic used for
/// general data cannot see.</para>
/// <para>References: Seifert, Phys. Rev. Lett. 95, 040602 (2005); Yu and Huang, Phys. Rev. E 111, 014111.</para>
/// </remarks>
public static class FluctuationTheorem
{
    /// <summary>The OU heat to the bath Q = (|x_0|^2 - |x_tau|^2) / 2 (SPEC section 2).</summary>
    /// <param name="x0">The start point.</param>
    /// <param name="xTau">The end point; same length.</param>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static double OuHeat(ReadOnlySpan<double> x0, ReadOnlySpan<double> xTau)
    {
        if (xTau.Length != x0.Length)
            throw new ArgumentException($"The end point has {xTau.Length} entries but the start point has {x0.Length}.", nameof(xTau));
        double h = 0;
        for (int j = 0; j < x0.Length; j++) h += x0[j] * x0[j] - xTau[j] * xTau[j];
        return 0.5 * h;
    }

    /// <summary>
    /// The mean entropy production of OU on [0, tau] for Gaussian data N(mean, diag(variance)):
    /// S_tot = KL(P_0 || N(0, I)) - KL(P_tau || N(0, I)) with P_tau = N(e^-tau mean, e^-2tau variance + 1 - e^-2tau).
    /// </summary>
    /// <param name="mean">The data mean.</param>
    /// <param name="variance">The per-coordinate data variance, positive.</param>
    /// <param name="tau">The final time, finite and positive.</param>
    /// <exception cref="ArgumentException">Invalid mean, variance or tau (see <see cref="EstimateGaussian"/>).</exception>
    public static double GaussianMeanEntropyProduction(ReadOnlySpan<double> mean, ReadOnlySpan<double> variance, double tau)
    {
        CheckGaussian(mean, variance);
        CheckTau(tau);
        double e = Math.Exp(-tau), delta = SymmetricGaussianMixtureOu.AddedVariance(tau), s = 0;
        for (int j = 0; j < mean.Length; j++)
            s += GaussianDivergence.KullbackLeibler(mean[j], Math.Sqrt(variance[j]), 0, 1)
                - GaussianDivergence.KullbackLeibler(e * mean[j], Math.Sqrt(e * e * variance[j] + delta), 0, 1);
        return s;
    }

    /// <summary>
    /// Estimates &lt;exp(-s_tot)&gt; for Gaussian data N(mean, diag(variance)), with ln P_0 and ln P_tau in closed form.
    /// </summary>
    /// <param name="mean">The data mean (its length is the dimension d).</param>
    /// <param name="variance">The per-coordinate data variance; every entry finite and positive.</param>
    /// <param name="tau">The final time, finite and positive.</param>
    /// <param name="trajectoryCount">N &gt;= 2 trajectories.</param>
    /// <param name="random">The random source.</param>
    /// <param name="steps">0 for the exact OU transition, otherwise the number of Euler-Maruyama steps.</param>
    /// <exception cref="ArgumentNullException"><paramref name="random"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="mean"/> is empty or non-finite, <paramref name="variance"/>
    /// has another length or a non-positive or non-finite entry.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="tau"/> is not finite and positive,
    /// <paramref name="trajectoryCount"/> &lt; 2 or <paramref name="steps"/> &lt; 0.</exception>
    public static FluctuationTheoremResult EstimateGaussian(ReadOnlySpan<double> mean, ReadOnlySpan<double> variance, double tau,
        int trajectoryCount, Random random, int steps = 0)
    {
        CheckGaussian(mean, variance);
        CheckCommon(tau, trajectoryCount, random, steps);
        var data = GaussianDenoiser.Diagonal(mean, variance);
        var x = new double[trajectoryCount * mean.Length];
        data.SampleData(random, x);
        // OU marginal at tau: x_tau = e^-tau y + sqrt(1 - e^-2tau) eps, i.e. noise level m = e^-tau, sigma = sqrt(1 - e^-2tau).
        double e = Math.Exp(-tau), noise = Math.Sqrt(SymmetricGaussianMixtureOu.AddedVariance(tau));
        bool risk = false;
        foreach (double vj in variance) risk |= vj <= 0.5;
        return Run(x, mean.Length, (r, o) => data.LogDensity(r, 1, 0, o), (r, o) => data.LogDensity(r, e, noise, o),
            tau, random, steps, risk);
    }

    /// <summary>
    /// Estimates &lt;exp(-s_tot)&gt; for general data drawn by <paramref name="data"/>, with user-supplied log-densities
    /// of P_0 = q and of P_tau (the law of x_tau under the chosen simulation).
    /// </summary>
    /// <param name="data">Draws data rows y ~ q.</param>
    /// <param name="dimension">d &gt;= 1.</param>
    /// <param name="logDensity0">ln P_0 on a batch of rows.</param>
    /// <param name="logDensityTau">ln P_tau on a batch of rows.</param>
    /// <param name="tau">The final time, finite and positive.</param>
    /// <param name="trajectoryCount">N &gt;= 2 trajectories.</param>
    /// <param name="random">The random source.</param>
    /// <param name="steps">0 for the exact OU transition, otherwise the number of Euler-Maruyama steps.</param>
    /// <exception cref="ArgumentNullException">A delegate or <paramref name="random"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> &lt; 1, <paramref name="tau"/> is not
    /// finite and positive, <paramref name="trajectoryCount"/> &lt; 2 or <paramref name="steps"/> &lt; 0.</exception>
    /// <exception cref="ArgumentException">The sampler produced a non-finite value, or a log-density returned NaN or +infinity.</exception>
    public static FluctuationTheoremResult Estimate(DataSampler data, int dimension, BatchLogDensity logDensity0,
        BatchLogDensity logDensityTau, double tau, int trajectoryCount, Random random, int steps = 0)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        CheckCommon(tau, trajectoryCount, random, steps);
        var x = new double[trajectoryCount * dimension];
        data(random, x);
        foreach (double v in x)
            if (!double.IsFinite(v)) throw new ArgumentException("The data sampler produced a non-finite value.", nameof(data));
        return EstimateFromRows(x, dimension, logDensity0, logDensityTau, tau, random, steps);
    }

    /// <summary>
    /// Estimates &lt;exp(-s_tot)&gt; with one trajectory started from each data row, with user-supplied log-densities
    /// of P_0 and P_tau.
    /// </summary>
    /// <param name="dataRows">The start points x_0, row-major; at least two rows, all finite.</param>
    /// <param name="dimension">d &gt;= 1.</param>
    /// <param name="logDensity0">ln P_0 on a batch of rows.</param>
    /// <param name="logDensityTau">ln P_tau on a batch of rows.</param>
    /// <param name="tau">The final time, finite and positive.</param>
    /// <param name="random">The random source.</param>
    /// <param name="steps">0 for the exact OU transition, otherwise the number of Euler-Maruyama steps.</param>
    /// <exception cref="ArgumentNullException">A delegate or <paramref name="random"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> &lt; 1, <paramref name="tau"/> is not
    /// finite and positive, or <paramref name="steps"/> &lt; 0.</exception>
    /// <exception cref="ArgumentException"><paramref name="dataRows"/> is not a whole number of at least two rows or
    /// holds a non-finite value, or a log-density returned NaN or +infinity.</exception>
    public static FluctuationTheoremResult Estimate(ReadOnlySpan<double> dataRows, int dimension, BatchLogDensity logDensity0,
        BatchLogDensity logDensityTau, double tau, Random random, int steps = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        if (dataRows.Length % dimension != 0 || dataRows.Length / dimension < 2)
            throw new ArgumentException($"The data must hold at least two rows of {dimension} features (got length {dataRows.Length}).", nameof(dataRows));
        foreach (double v in dataRows)
            if (!double.IsFinite(v)) throw new ArgumentException("The data rows hold a non-finite value.", nameof(dataRows));
        CheckCommon(tau, dataRows.Length / dimension, random, steps);
        return EstimateFromRows(dataRows.ToArray(), dimension, logDensity0, logDensityTau, tau, random, steps);
    }

    private static FluctuationTheoremResult EstimateFromRows(double[] x, int d, BatchLogDensity logDensity0,
        BatchLogDensity logDensityTau, double tau, Random random, int steps)
    {
        ArgumentNullException.ThrowIfNull(logDensity0);
        ArgumentNullException.ThrowIfNull(logDensityTau);
        int n = x.Length / d;
        double minVariance = double.PositiveInfinity;
        for (int j = 0; j < d; j++)
        {
            double m = 0, m2 = 0;
            for (int r = 0; r < n; r++) m += x[r * d + j];
            m /= n;
            for (int r = 0; r < n; r++)
            {
                double z = x[r * d + j] - m;
                m2 += z * z;
            }
            minVariance = Math.Min(minVariance, m2 / (n - 1));
        }
        return Run(x, d, logDensity0, logDensityTau, tau, random, steps, minVariance <= 0.5);
    }

    /// <summary>Core: x holds the start points on entry; draws the trajectories and averages.</summary>
    private static FluctuationTheoremResult Run(double[] x, int d, BatchLogDensity logDensity0, BatchLogDensity logDensityTau,
        double tau, Random random, int steps, bool risk)
    {
        int n = x.Length / d;
        var s = new double[n];
        logDensity0(x, s);
        for (int r = 0; r < n; r++)
            if (double.IsNaN(s[r]) || double.IsPositiveInfinity(s[r]))
                throw new ArgumentException($"ln P_0 returned {s[r]} for row {r}.", nameof(logDensity0));
        var start = x.ToArray();

        var z = new double[x.Length];
        if (steps == 0)
        {
            double e = Math.Exp(-tau), noise = Math.Sqrt(SymmetricGaussianMixtureOu.AddedVariance(tau));
            StandardNormal.Fill(random, z);
            for (int i = 0; i < x.Length; i++) x[i] = e * x[i] + noise * z[i];
        }
        else
        {
            double dt = tau / steps, noise = Math.Sqrt(2 * dt);
            for (int k = 0; k < steps; k++)
            {
                StandardNormal.Fill(random, z);
                for (int i = 0; i < x.Length; i++) x[i] += -x[i] * dt + noise * z[i];
            }
        }

        var lnTau = new double[n];
        logDensityTau(x, lnTau);
        double sumW = 0, sumW2 = 0, sumS = 0, sumS2 = 0;
        for (int r = 0; r < n; r++)
        {
            if (double.IsNaN(lnTau[r]) || double.IsPositiveInfinity(lnTau[r]))
                throw new ArgumentException($"ln P_tau returned {lnTau[r]} for row {r}.", nameof(logDensityTau));
            double stot = s[r] - lnTau[r] + OuHeat(start.AsSpan(r * d, d), x.AsSpan(r * d, d));
            double w = Math.Exp(-stot);
            sumW += w;
            sumW2 += w * w;
            sumS += stot;
            sumS2 += stot * stot;
        }
        double meanW = sumW / n, meanS = sumS / n;
        double varW = Math.Max(0, (sumW2 - n * meanW * meanW) / (n - 1));
        double varS = Math.Max(0, (sumS2 - n * meanS * meanS) / (n - 1));
        double ess = sumW2 > 0 ? sumW * sumW / sumW2 : 0;
        return new FluctuationTheoremResult(meanW, Math.Sqrt(varW / n), meanS, Math.Sqrt(varS / n), n, ess, risk);
    }

    private static void CheckGaussian(ReadOnlySpan<double> mean, ReadOnlySpan<double> variance)
    {
        if (mean.Length == 0) throw new ArgumentException("The mean must not be empty.", nameof(mean));
        foreach (double v in mean)
            if (!double.IsFinite(v)) throw new ArgumentException("The mean holds a non-finite value.", nameof(mean));
        if (variance.Length != mean.Length)
            throw new ArgumentException($"The variance has {variance.Length} entries but the mean has {mean.Length}.", nameof(variance));
        foreach (double v in variance)
            if (!double.IsFinite(v) || v <= 0) throw new ArgumentException($"Every variance must be finite and positive (got {v}).", nameof(variance));
    }

    private static void CheckTau(double tau)
    {
        if (!double.IsFinite(tau) || tau <= 0)
            throw new ArgumentOutOfRangeException(nameof(tau), tau, "The final time tau must be finite and positive.");
    }

    private static void CheckCommon(double tau, int trajectoryCount, Random random, int steps)
    {
        CheckTau(tau);
        if (trajectoryCount < 2)
            throw new ArgumentOutOfRangeException(nameof(trajectoryCount), trajectoryCount, "At least two trajectories are needed.");
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
    }
}
