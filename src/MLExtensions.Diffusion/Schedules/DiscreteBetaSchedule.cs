using MLExtensions.Diffusion.Numerics;
namespace MLExtensions.Diffusion.Schedules;

/// <summary>
/// The discrete variance-preserving chain X_t = sqrt(1 - beta_t) X_{t-1} + sqrt(beta_t) W_t, t = 1..T (SPEC section 5),
/// as a <see cref="NoiseSchedule"/> on [0, T] whose integer times index the chain: alpha_t = 1 - beta_t,
/// abar_t = prod_{k &lt;= t} alpha_k, m_t = sqrt(abar_t), sigma_t = sqrt(1 - abar_t).
/// </summary>
/// <remarks>
/// <para>Between integers, ln abar is interpolated linearly: for t in (k - 1, k], ln abar(t) = ln abar_{k-1} + (t - k + 1) ln alpha_k.
/// This is the continuous VP process with the piecewise-constant rate beta(t) = -ln alpha_k, so the schedule stays
/// variance preserving and sigma/m increasing, with f_t(x) = (1/2) ln(alpha_k) x and T_t = -(1/2) ln alpha_k on that
/// interval. At an integer t = k the derivatives are those of the interval (k - 1, k] ending there (of (0, 1] at t = 0).
/// sigma behaves like sqrt(t) at 0, so <see cref="NoiseSchedule.SigmaDot"/>(0) is +infinity; <see cref="NoiseSchedule.Temperature"/> and
/// <see cref="NoiseSchedule.DriftRate"/> stay finite.</para>
/// <para>Li, Wei, Chen, Chi, arXiv:2306.09251; Li, Huang, Efimov, Wei, Chi, Chen, arXiv:2403.03852; Ho, Jain, Abbeel,
/// arXiv:2006.11239 (linear betas).</para>
/// </remarks>
public sealed class DiscreteBetaSchedule : NoiseSchedule
{
    private readonly double[] _betas;        // _betas[k - 1] = beta_k
    private readonly double[] _logAlphas;    // _logAlphas[k - 1] = ln alpha_k
    private readonly double[] _logAlphaBar;  // _logAlphaBar[t] = ln abar_t, t = 0..T

    private DiscreteBetaSchedule(double[] betas) : base(betas.Length)
    {
        _betas = betas;
        _logAlphas = new double[betas.Length];
        _logAlphaBar = new double[betas.Length + 1];
        for (int k = 1; k <= betas.Length; k++)
        {
            _logAlphas[k - 1] = ElementaryFunctions.Log1P(-betas[k - 1]);
            _logAlphaBar[k] = _logAlphaBar[k - 1] + _logAlphas[k - 1];
        }
    }

    /// <summary>The chain with the given betas: <paramref name="betas"/>[k - 1] = beta_k, k = 1..T.</summary>
    /// <param name="betas">The betas, each in (0, 1); at least one.</param>
    /// <exception cref="ArgumentException"><paramref name="betas"/> is empty or holds a value outside (0, 1).</exception>
    public static DiscreteBetaSchedule FromBetas(ReadOnlySpan<double> betas)
    {
        if (betas.Length == 0) throw new ArgumentException("At least one beta is needed.", nameof(betas));
        for (int k = 0; k < betas.Length; k++)
            if (!(betas[k] > 0 && betas[k] < 1))
                throw new ArgumentException($"betas[{k}] = {betas[k]} is not in (0, 1).", nameof(betas));
        return new DiscreteBetaSchedule(betas.ToArray());
    }

    /// <summary>
    /// The chain with the given cumulative products: <paramref name="alphaBars"/>[k - 1] = abar_k = prod_{j &lt;= k} alpha_j,
    /// k = 1..T (e.g. a DDPM <c>alphas_cumprod</c> table), so beta_k = 1 - abar_k / abar_{k-1} with abar_0 = 1.
    /// </summary>
    /// <remarks>
    /// A leading entry exactly 1 is read as abar_0 and dropped, so both [abar_1, ..., abar_T] and [1, abar_1, ..., abar_T]
    /// are accepted (abar_1 &lt; 1 always, so this is unambiguous). beta_k is computed as -expm1(ln abar_k - ln abar_{k-1}),
    /// which keeps its relative accuracy for small betas; <see cref="AlphaBar"/> then returns the given values to rounding.
    /// </remarks>
    /// <param name="alphaBars">Finite, strictly decreasing values in (0, 1] with at most the first equal to 1, and at least
    /// one value below 1.</param>
    /// <returns>The schedule with T = the number of values below 1.</returns>
    /// <exception cref="ArgumentException"><paramref name="alphaBars"/> has no value below 1, holds a non-finite value or a
    /// value outside (0, 1], or is not strictly decreasing (the message names the index).</exception>
    public static DiscreteBetaSchedule FromAlphaBars(ReadOnlySpan<double> alphaBars)
    {
        ScheduleValidation.RequireAllFinite(alphaBars, nameof(alphaBars));
        for (int k = 0; k < alphaBars.Length; k++)
            if (!(alphaBars[k] > 0 && alphaBars[k] <= 1))
                throw new ArgumentException($"alphaBars[{k}] = {alphaBars[k]} is not in (0, 1].", nameof(alphaBars));
        ScheduleValidation.RequireStrictlyDecreasing(alphaBars, nameof(alphaBars));
        var products = alphaBars.Length > 0 && alphaBars[0] == 1 ? alphaBars[1..] : alphaBars;
        if (products.Length == 0)
            throw new ArgumentException("At least one cumulative product below 1 is needed.", nameof(alphaBars));
        var betas = new double[products.Length];
        double previous = 0; // ln abar_0
        for (int k = 0; k < products.Length; k++)
        {
            double current = Math.Log(products[k]);
            betas[k] = -ElementaryFunctions.ExpM1(current - previous);
            previous = current;
        }
        return new DiscreteBetaSchedule(betas);
    }

    /// <summary>
    /// The schedule of Li et al. (arXiv:2306.09251): beta_1 = T^-c0 and
    /// beta_{t+1} = (c1 log T / T) min{beta_1 (1 + c1 log T / T)^t, 1} for t = 1..T-1.
    /// </summary>
    /// <param name="steps">T &gt;= 2.</param>
    /// <param name="c0">c0 &gt; 0.</param>
    /// <param name="c1">c1 &gt; 0, with c1 log T / T &lt; 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public static DiscreteBetaSchedule LiEtAl(int steps, double c0, double c1)
    {
        if (steps < 2) throw new ArgumentOutOfRangeException(nameof(steps), steps, "T must be at least 2.");
        if (!(double.IsFinite(c0) && c0 > 0)) throw new ArgumentOutOfRangeException(nameof(c0), c0, "c0 must be finite and positive.");
        double rate = c1 * Math.Log(steps) / steps;
        if (!(double.IsFinite(c1) && c1 > 0 && rate < 1))
            throw new ArgumentOutOfRangeException(nameof(c1), c1, "c1 must be positive with c1 log T / T < 1.");
        var betas = new double[steps];
        betas[0] = Math.Pow(steps, -c0);
        for (int t = 1; t < steps; t++)
            betas[t] = rate * Math.Min(betas[0] * Math.Pow(1 + rate, t), 1);
        return FromBetas(betas);
    }

    /// <summary>DDPM's linear betas (Ho et al.): beta_k = betaStart + (k - 1)/(T - 1) (betaEnd - betaStart), k = 1..T.</summary>
    /// <param name="steps">T &gt;= 2.</param>
    /// <param name="betaStart">beta_1, in (0, 1).</param>
    /// <param name="betaEnd">beta_T, in (0, 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public static DiscreteBetaSchedule DdpmLinear(int steps = 1000, double betaStart = 1e-4, double betaEnd = 0.02)
    {
        if (steps < 2) throw new ArgumentOutOfRangeException(nameof(steps), steps, "T must be at least 2.");
        if (!(betaStart > 0 && betaStart < 1)) throw new ArgumentOutOfRangeException(nameof(betaStart), betaStart, "beta_1 must lie in (0, 1).");
        if (!(betaEnd > 0 && betaEnd < 1)) throw new ArgumentOutOfRangeException(nameof(betaEnd), betaEnd, "beta_T must lie in (0, 1).");
        var betas = new double[steps];
        for (int k = 0; k < steps; k++) betas[k] = betaStart + k * (betaEnd - betaStart) / (steps - 1);
        return FromBetas(betas);
    }

    /// <summary>The number of chain steps T (= <see cref="NoiseSchedule.Tau"/>).</summary>
    public int Steps => _betas.Length;

    /// <summary>The betas, beta_1..beta_T (<see cref="Betas"/>[k - 1] = beta_k), as given to <see cref="FromBetas"/>.</summary>
    public ReadOnlySpan<double> Betas => _betas;

    /// <inheritdoc />
    public override string Name => "discrete-beta";

    /// <summary>beta_t for t = 1..T.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is not in 1..T.</exception>
    public double Beta(int t)
    {
        if (t < 1 || t > Steps) throw new ArgumentOutOfRangeException(nameof(t), t, $"t must lie in 1..{Steps}.");
        return _betas[t - 1];
    }

    /// <summary>alpha_t = 1 - beta_t for t = 1..T.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is not in 1..T.</exception>
    public double Alpha(int t) => 1 - Beta(t);

    /// <summary>abar_t = prod_{k=1..t} alpha_k for t = 0..T (abar_0 = 1).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is not in 0..T.</exception>
    public double AlphaBar(int t)
    {
        if (t < 0 || t > Steps) throw new ArgumentOutOfRangeException(nameof(t), t, $"t must lie in 0..{Steps}.");
        return Math.Exp(_logAlphaBar[t]);
    }

    /// <summary>The interval index k with t in (k - 1, k] (k = 1 at t = 0) and ln abar(t).</summary>
    private int Locate(double t, out double logAlphaBar)
    {
        if (!(t >= 0 && t <= Steps)) throw new ArgumentOutOfRangeException(nameof(t), t, $"t must lie in [0, {Steps}].");
        int k = Math.Max(1, (int)Math.Ceiling(t));
        logAlphaBar = _logAlphaBar[k - 1] + (t - (k - 1)) * _logAlphas[k - 1];
        return k;
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is not in [0, T].</exception>
    protected override double MCore(double t)
    {
        Locate(t, out double l);
        return Math.Exp(0.5 * l);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is not in [0, T].</exception>
    protected override double SigmaCore(double t)
    {
        Locate(t, out double l);
        return SigmaFromLogAlphaBar(l);
    }

    /// <summary>sigma = sqrt(1 - abar) computed as sqrt(-expm1(ln abar)), exact to a few ulps also near t = 0 (+0 at t = 0).</summary>
    private static double SigmaFromLogAlphaBar(double logAlphaBar)
    {
        double oneMinus = -ElementaryFunctions.ExpM1(logAlphaBar);
        return oneMinus > 0 ? Math.Sqrt(oneMinus) : 0;
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is not in [0, T].</exception>
    protected override double MDotCore(double t)
    {
        int k = Locate(t, out double l);
        return 0.5 * _logAlphas[k - 1] * Math.Exp(0.5 * l);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is not in [0, T].</exception>
    protected override double SigmaDotCore(double t)
    {
        int k = Locate(t, out double l);
        double sigma = SigmaFromLogAlphaBar(l);
        return sigma == 0 ? double.PositiveInfinity : -0.5 * _logAlphas[k - 1] * Math.Exp(l) / sigma;
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is not in [0, T].</exception>
    protected override double LogSnrCore(double t)
    {
        Locate(t, out double l);
        return 0.5 * l - Math.Log(SigmaFromLogAlphaBar(l));
    }

    /// <summary>T_t = -(1/2) ln alpha_k on (k - 1, k]: finite also at t = 0.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is not in [0, T].</exception>
    protected override double TemperatureCore(double t) => -0.5 * _logAlphas[Locate(t, out _) - 1];

    /// <summary>d/dt ln m = (1/2) ln alpha_k on (k - 1, k].</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is not in [0, T].</exception>
    protected override double DriftRateCore(double t) => 0.5 * _logAlphas[Locate(t, out _) - 1];
}
