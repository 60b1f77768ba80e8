namespace MLExtensions.Diffusion.Schedules;

/// <summary>
/// The Nichol-Dhariwal cosine VP schedule (SPEC section 1): abar(u) = f(u) / f(0),
/// f(u) = cos^2(((u + s) / (1 + s)) pi / 2), u = t / tau, offset s = 0.008; m = sqrt(abar), sigma = sqrt(1 - abar).
/// </summary>
/// <remarks>
/// <para>Nichol, Dhariwal, "Improved denoising diffusion probabilistic models", ICML 2021. With
/// theta(u) = ((u + s) / (1 + s)) pi / 2 and theta0 = theta(0): m = cos theta / cos theta0 and
/// sigma = sqrt(sin(theta - theta0) sin(theta + theta0)) / cos theta0 (no cancellation near t = 0), T_t = -d/dt ln m =
/// theta' tan theta, lambda = ln cos theta - 1/2 ln(sin(theta - theta0) sin(theta + theta0)), and the inverse
/// theta = atan(sqrt(sin^2 theta0 + exp(-2 lambda)) / cos theta0). With s = 0 this is <see cref="CosineSchedule"/>.</para>
/// <para>Beta clipping in continuous time. The discrete schedule uses beta_i = 1 - abar(i/N) / abar((i-1)/N) with
/// N = 1000, clipped at 0.999; only the last step or so is affected, because abar vanishes at u = 1. Here the clipping
/// is read as an end cut-off: <see cref="NoiseSchedule.MaxTime"/> = tau u* where u* is the unique root of
/// abar(u) = (1 - betaMax) abar(u - 1/N), i.e. the time from which one reference step of length tau/N would have a
/// beta above the clip. For the defaults u* = 1 - 3.27e-5 (found by bisection at construction) and m(MaxTime) is
/// about 5e-5, so the noise level sigma/m at the end is about 2e4. The formulas themselves are unclipped.</para>
/// </remarks>
public sealed class VpCosineSchedule : NoiseSchedule
{
    private readonly double _theta0;
    private readonly double _cosTheta0;
    private readonly double _sinTheta0;
    private readonly double _thetaRate; // d theta / dt

    /// <summary>Creates the Nichol-Dhariwal cosine schedule.</summary>
    /// <param name="tau">Final time, finite and positive.</param>
    /// <param name="offset">The offset s; finite, in [0, 1). Nichol and Dhariwal use 0.008.</param>
    /// <param name="betaMax">The clip on the per-step beta that defines the end cut-off; in (0, 1).</param>
    /// <param name="referenceSteps">The number N of discrete steps the clip refers to; at least 2.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public VpCosineSchedule(double tau = 1.0, double offset = 0.008, double betaMax = 0.999, int referenceSteps = 1000) : base(tau)
    {
        if (!(offset >= 0 && offset < 1))
            throw new ArgumentOutOfRangeException(nameof(offset), offset, "'offset' must lie in [0, 1).");
        ScheduleValidation.RequireOpenInterval(betaMax, 0, 1, nameof(betaMax));
        if (referenceSteps < 2)
            throw new ArgumentOutOfRangeException(nameof(referenceSteps), referenceSteps, "'referenceSteps' must be at least 2.");
        Offset = offset;
        BetaMax = betaMax;
        ReferenceSteps = referenceSteps;
        _theta0 = 0.5 * Math.PI * offset / (1 + offset);
        _cosTheta0 = Math.Cos(_theta0);
        _sinTheta0 = Math.Sin(_theta0);
        _thetaRate = 0.5 * Math.PI / ((1 + offset) * tau);
        EndCutoff = 1 - ClipTime(betaMax, 1.0 / referenceSteps);
    }

    /// <summary>The offset s.</summary>
    public double Offset { get; }

    /// <summary>The per-step beta clip that defines the end cut-off.</summary>
    public double BetaMax { get; }

    /// <summary>The number of discrete reference steps the clip refers to.</summary>
    public int ReferenceSteps { get; }

    /// <summary>The relative end cut-off eps derived from the beta clip: <see cref="NoiseSchedule.MaxTime"/> = tau (1 - eps).</summary>
    public double EndCutoff { get; }

    /// <inheritdoc />
    public override string Name => "vp-cosine";

    /// <inheritdoc />
    public override double MaxTime => Tau * (1 - EndCutoff);

    /// <summary>abar(t) = f(u) / f(0) = m^2.</summary>
    /// <param name="t">Time in [0, tau].</param>
    public double AlphaBar(double t)
    {
        double m = M(t);
        return m * m;
    }

    /// <inheritdoc />
    protected override double MCore(double t) => Math.Cos(Theta(t)) / _cosTheta0;

    /// <inheritdoc />
    protected override double SigmaCore(double t)
    {
        double dth = _thetaRate * t; // theta - theta0, without cancellation
        return Math.Sqrt(Math.Max(0, Math.Sin(dth) * Math.Sin(2 * _theta0 + dth))) / _cosTheta0;
    }

    /// <inheritdoc />
    protected override double MDotCore(double t) => -_thetaRate * Math.Sin(Theta(t)) / _cosTheta0;

    /// <summary>The time derivative dsigma/dt = -m mdot / sigma; +infinity at t = 0 when the offset is positive.</summary>
    /// <param name="t">Time in [0, tau].</param>
    protected override double SigmaDotCore(double t)
    {
        double s = Sigma(t);
        if (s == 0) return Offset > 0 ? double.PositiveInfinity : _thetaRate;
        return -M(t) * MDot(t) / s;
    }

    /// <summary>The bath temperature T_t = -d/dt ln m = theta' tan theta (VP identity, exact also at t = 0).</summary>
    /// <param name="t">Time in [0, tau].</param>
    protected override double TemperatureCore(double t) => _thetaRate * Math.Tan(Theta(t));

    /// <inheritdoc />
    protected override double DriftRateCore(double t) => -_thetaRate * Math.Tan(Theta(t));

    /// <inheritdoc />
    protected override double LogSnrCore(double t)
    {
        double dth = _thetaRate * t;
        return Math.Log(Math.Cos(_theta0 + dth)) - 0.5 * Math.Log(Math.Sin(dth) * Math.Sin(2 * _theta0 + dth));
    }

    /// <summary>
    /// The time with log-SNR <paramref name="logSnr"/> in closed form,
    /// theta = atan(sqrt(sin^2 theta0 + exp(-2 lambda)) / cos theta0), clamped to [0, <see cref="NoiseSchedule.MaxTime"/>].
    /// </summary>
    /// <param name="logSnr">The log-SNR lambda; not NaN.</param>
    /// <exception cref="ArgumentException"><paramref name="logSnr"/> is NaN.</exception>
    public override double TimeAtLogSnr(double logSnr)
    {
        if (double.IsNaN(logSnr)) throw new ArgumentException("The log-SNR must not be NaN.", nameof(logSnr));
        double r = Math.Exp(-2 * logSnr);
        if (r == 0) return 0;
        if (double.IsPositiveInfinity(r)) return MaxTime;
        // tan(theta - theta0) = (tan theta - tan theta0) / (1 + tan theta tan theta0), with
        // tan theta - tan theta0 = r / (cos theta0 (A + sin theta0)), A = sqrt(sin^2 theta0 + r): no cancellation at small r.
        double a = Math.Sqrt(_sinTheta0 * _sinTheta0 + r);
        double num = r / (_cosTheta0 * (a + _sinTheta0));
        double den = 1 + a * _sinTheta0 / (_cosTheta0 * _cosTheta0);
        double t = Math.Atan2(num, den) / _thetaRate;
        return Math.Clamp(t, 0, MaxTime);
    }

    private double Theta(double t) => _theta0 + _thetaRate * t;

    /// <summary>The root u* in (delta, 1) of abar(u) = (1 - betaMax) abar(u - delta), by bisection.</summary>
    private double ClipTime(double betaMax, double delta)
    {
        // abar(u) / abar(u - delta) decreases in u (ln cos is concave), from abar(delta) at u = delta to 0 at u = 1.
        double keep = 1 - betaMax;
        double lo = delta, hi = 1.0;
        if (AlphaBar(lo * Tau) <= keep) return lo;
        for (int i = 0; i < 200 && hi - lo > 1e-15; i++)
        {
            double mid = 0.5 * (lo + hi);
            if (AlphaBar(mid * Tau) > keep * AlphaBar((mid - delta) * Tau)) lo = mid; else hi = mid;
        }
        return lo;
    }
}
