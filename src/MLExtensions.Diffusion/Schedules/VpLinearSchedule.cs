using MLExtensions.Diffusion.Numerics;
namespace MLExtensions.Diffusion.Schedules;

/// <summary>
/// The variance-preserving schedule with a linear noise rate (continuous-time DDPM, SPEC section 1):
/// beta(u) = betaMin + (betaMax - betaMin) u on u = t / tau in [0, 1], m = exp(-1/2 integral beta), sigma = sqrt(1 - m^2).
/// </summary>
/// <remarks>
/// <para>Ho, Jain, Abbeel, "Denoising diffusion probabilistic models", NeurIPS 2020 (discrete beta from 1e-4 to 0.02
/// over 1000 steps); Song et al., "Score-based generative modeling through stochastic differential equations",
/// ICLR 2021 (the continuous limit beta(t) = 0.1 + 19.9 t, the defaults here).</para>
/// <para>With B(u) = betaMin u + (betaMax - betaMin) u^2 / 2 the integrated rate: m = exp(-B/2),
/// sigma = sqrt(-expm1(-B)), lambda = -1/2 ln(expm1(B)). The inverse solves the quadratic B(u) = ln(1 + exp(-2 lambda))
/// in closed form. For a VP path T_t = -d/dt ln m_t = beta(t) / 2 (rate per unit t), which is finite at t = 0 although
/// dsigma/dt is infinite there (sigma ~ sqrt(betaMin t / tau)).</para>
/// <para>The time argument is rescaled: for tau != 1 the path is the tau = 1 path run at speed 1 / tau, and
/// <see cref="Beta"/> returns the rate per unit t, beta(u) / tau.</para>
/// </remarks>
public sealed class VpLinearSchedule : NoiseSchedule
{
    private readonly double _betaMin;
    private readonly double _betaSlope;

    /// <summary>Creates the linear-beta VP schedule.</summary>
    /// <param name="betaMin">beta at u = 0; finite and non-negative.</param>
    /// <param name="betaMax">beta at u = 1; finite, positive and at least <paramref name="betaMin"/>.</param>
    /// <param name="tau">Final time, finite and positive.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public VpLinearSchedule(double betaMin = 0.1, double betaMax = 20.0, double tau = 1.0) : base(tau)
    {
        if (!double.IsFinite(betaMin) || betaMin < 0)
            throw new ArgumentOutOfRangeException(nameof(betaMin), betaMin, "'betaMin' must be finite and non-negative.");
        if (!double.IsFinite(betaMax) || betaMax <= 0 || betaMax < betaMin)
            throw new ArgumentOutOfRangeException(nameof(betaMax), betaMax, "'betaMax' must be finite, positive and at least 'betaMin'.");
        _betaMin = betaMin;
        _betaSlope = betaMax - betaMin;
        BetaMin = betaMin;
        BetaMax = betaMax;
    }

    /// <summary>beta at u = 0 (per unit u).</summary>
    public double BetaMin { get; }

    /// <summary>beta at u = 1 (per unit u).</summary>
    public double BetaMax { get; }

    /// <inheritdoc />
    public override string Name => "vp-linear";

    /// <summary>The noise rate per unit time, beta(u) / tau, so that m_t = exp(-1/2 integral_0^t Beta(s) ds).</summary>
    /// <param name="t">Time in [0, tau].</param>
    public double Beta(double t) => (_betaMin + _betaSlope * (t / Tau)) / Tau;

    /// <summary>The integrated rate B(t) = integral_0^t Beta(s) ds = betaMin u + (betaMax - betaMin) u^2 / 2.</summary>
    /// <param name="t">Time in [0, tau].</param>
    public double IntegratedBeta(double t)
    {
        double u = t / Tau;
        return u * (_betaMin + 0.5 * _betaSlope * u);
    }

    /// <inheritdoc />
    protected override double MCore(double t) => Math.Exp(-0.5 * IntegratedBeta(t));

    /// <inheritdoc />
    protected override double SigmaCore(double t) => Math.Sqrt(-ElementaryFunctions.ExpM1(-IntegratedBeta(t)));

    /// <inheritdoc />
    protected override double MDotCore(double t) => -0.5 * Beta(t) * M(t);

    /// <summary>The time derivative dsigma/dt = beta m^2 / (2 sigma); +infinity at t = 0 when betaMin &gt; 0
    /// (sqrt((betaMax - betaMin) / 2) / tau there when betaMin = 0).</summary>
    /// <param name="t">Time in [0, tau].</param>
    protected override double SigmaDotCore(double t)
    {
        double b = IntegratedBeta(t);
        if (b == 0) return _betaMin > 0 ? double.PositiveInfinity : Math.Sqrt(0.5 * _betaSlope) / Tau;
        return 0.5 * Beta(t) * Math.Exp(-b) / Math.Sqrt(-ElementaryFunctions.ExpM1(-b));
    }

    /// <summary>The bath temperature T_t = beta(t) / 2 (VP identity T = -d/dt ln m, exact also at t = 0).</summary>
    /// <param name="t">Time in [0, tau].</param>
    protected override double TemperatureCore(double t) => 0.5 * Beta(t);

    /// <inheritdoc />
    protected override double DriftRateCore(double t) => -0.5 * Beta(t);

    /// <inheritdoc />
    protected override double LogSnrCore(double t) => -0.5 * Math.Log(ElementaryFunctions.ExpM1(IntegratedBeta(t)));

    /// <summary>
    /// The time with log-SNR <paramref name="logSnr"/> in closed form: B = ln(1 + exp(-2 lambda)), then the positive
    /// root of the quadratic B(u) = B, u = 2 B / (betaMin + sqrt(betaMin^2 + 2 (betaMax - betaMin) B)); clamped to
    /// [0, <see cref="NoiseSchedule.MaxTime"/>].
    /// </summary>
    /// <param name="logSnr">The log-SNR lambda; not NaN.</param>
    /// <exception cref="ArgumentException"><paramref name="logSnr"/> is NaN.</exception>
    public override double TimeAtLogSnr(double logSnr)
    {
        if (double.IsNaN(logSnr)) throw new ArgumentException("The log-SNR must not be NaN.", nameof(logSnr));
        // B = ln(1 + e^{-2 lambda}), written to avoid overflow for very negative lambda.
        double x = -2 * logSnr;
        double b = x > 0 ? x + ElementaryFunctions.Log1P(Math.Exp(-x)) : ElementaryFunctions.Log1P(Math.Exp(x));
        if (b <= 0) return 0;
        if (double.IsPositiveInfinity(b)) return MaxTime;
        double u = 2 * b / (_betaMin + Math.Sqrt(_betaMin * _betaMin + 2 * _betaSlope * b));
        return Math.Min(Tau * u, MaxTime);
    }
}
