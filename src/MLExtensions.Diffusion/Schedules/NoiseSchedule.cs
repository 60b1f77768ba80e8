namespace MLExtensions.Diffusion.Schedules;

/// <summary>
/// A Gaussian conditional path x_t = m_t y + sigma_t eps on t in [0, tau] (SPEC section 1), with m_0 = 1 and sigma_0 = 0.
/// </summary>
/// <remarks>
/// <para>A schedule is a plain object: it knows m, sigma and their time derivatives and nothing about denoisers or
/// solvers. Everything else (log-SNR, the bath temperature T_t, the drift rate of f_t) is derived here, once.</para>
/// <para>The path is the law of the Langevin process dx = f_t(x) dt + sqrt(2 T_t) dB with f_t(x) = (d/dt ln m_t) x and
/// T_t = m_t sigma_t d/dt(sigma_t / m_t). Implementations must keep sigma/m non-decreasing so that T_t &gt;= 0.</para>
/// <para>Instances are immutable and safe to share between threads.</para>
/// </remarks>
public abstract class NoiseSchedule
{
    /// <summary>Creates a schedule on [0, <paramref name="tau"/>].</summary>
    /// <param name="tau">The final time; must be finite and positive.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="tau"/> is not finite and positive.</exception>
    protected NoiseSchedule(double tau)
    {
        if (!double.IsFinite(tau) || tau <= 0)
            throw new ArgumentOutOfRangeException(nameof(tau), tau, "The final time tau must be finite and positive.");
        Tau = tau;
    }

    /// <summary>The final time tau: the schedule is defined on [0, tau].</summary>
    public double Tau { get; }

    /// <summary>
    /// The largest time at which the schedule is regular (m &gt; 0). Equal to <see cref="Tau"/> unless m vanishes at tau
    /// (cosine, cond-OT), in which case it is tau minus a documented cut-off.
    /// </summary>
    public virtual double MaxTime => Tau;

    /// <summary>A short human-readable name such as "cosine" or "vp-linear".</summary>
    public abstract string Name { get; }

    /// <summary>The signal scale m_t.</summary>
    /// <param name="t">Time in [0, <see cref="Tau"/>].</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is NaN or outside [0, <see cref="Tau"/>].</exception>
    public double M(double t) => MCore(CheckTime(t));

    /// <summary>The noise scale sigma_t.</summary>
    /// <param name="t">Time in [0, <see cref="Tau"/>].</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is NaN or outside [0, <see cref="Tau"/>].</exception>
    public double Sigma(double t) => SigmaCore(CheckTime(t));

    /// <summary>The time derivative dm/dt.</summary>
    /// <param name="t">Time in [0, <see cref="Tau"/>].</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is NaN or outside [0, <see cref="Tau"/>].</exception>
    public double MDot(double t) => MDotCore(CheckTime(t));

    /// <summary>The time derivative dsigma/dt.</summary>
    /// <param name="t">Time in [0, <see cref="Tau"/>].</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is NaN or outside [0, <see cref="Tau"/>].</exception>
    public double SigmaDot(double t) => SigmaDotCore(CheckTime(t));

    /// <summary>The log signal-to-noise ratio lambda_t = ln(m_t / sigma_t); +infinity at sigma = 0.</summary>
    /// <param name="t">Time in [0, <see cref="Tau"/>].</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is NaN or outside [0, <see cref="Tau"/>].</exception>
    public double LogSnr(double t) => LogSnrCore(CheckTime(t));

    /// <summary>
    /// The bath temperature T_t = m sigma d/dt(sigma/m) = sigma sigmadot - sigma^2 mdot / m (SPEC section 1).
    /// </summary>
    /// <param name="t">Time in [0, <see cref="Tau"/>].</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is NaN or outside [0, <see cref="Tau"/>].</exception>
    public double Temperature(double t) => TemperatureCore(CheckTime(t));

    /// <summary>The drift rate d/dt ln m_t, so that the forward drift is f_t(x) = DriftRate(t) x.</summary>
    /// <param name="t">Time in [0, <see cref="Tau"/>].</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is NaN or outside [0, <see cref="Tau"/>].</exception>
    public double DriftRate(double t) => DriftRateCore(CheckTime(t));

    /// <summary>m_t for a time already checked to lie in [0, tau].</summary>
    protected abstract double MCore(double t);

    /// <summary>sigma_t for a time already checked to lie in [0, tau].</summary>
    protected abstract double SigmaCore(double t);

    /// <summary>dm/dt for a time already checked to lie in [0, tau].</summary>
    protected abstract double MDotCore(double t);

    /// <summary>dsigma/dt for a time already checked to lie in [0, tau].</summary>
    protected abstract double SigmaDotCore(double t);

    /// <summary>ln(m / sigma) for a time already checked; override where a closed form is more accurate.</summary>
    protected virtual double LogSnrCore(double t) => Math.Log(MCore(t) / SigmaCore(t));

    /// <summary>T_t for a time already checked; override where the generic formula loses accuracy (e.g. t = 0).</summary>
    protected virtual double TemperatureCore(double t)
    {
        double m = MCore(t), s = SigmaCore(t);
        return s * SigmaDotCore(t) - s * s * MDotCore(t) / m;
    }

    /// <summary>d/dt ln m for a time already checked.</summary>
    protected virtual double DriftRateCore(double t) => MDotCore(t) / MCore(t);

    /// <summary>Returns <paramref name="t"/> when it lies in [0, tau]; throws otherwise.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is NaN or outside [0, <see cref="Tau"/>].</exception>
    protected double CheckTime(double t)
    {
        if (!(t >= 0 && t <= Tau))
            throw new ArgumentOutOfRangeException(nameof(t), t, $"The time must lie in [0, {Tau}] for the {Name} schedule.");
        return t;
    }

    /// <summary>
    /// The time at which the log-SNR equals <paramref name="logSnr"/>, found by bisection on [0, <see cref="MaxTime"/>]
    /// (log-SNR is non-increasing in t). Families with a closed-form inverse override this.
    /// </summary>
    public virtual double TimeAtLogSnr(double logSnr)
    {
        if (double.IsNaN(logSnr)) throw new ArgumentException("The log-SNR must not be NaN.", nameof(logSnr));
        double lo = 0, hi = MaxTime;
        if (logSnr >= LogSnr(Math.Max(lo, 1e-300))) return lo;
        if (logSnr <= LogSnr(hi)) return hi;
        for (int i = 0; i < 200 && hi - lo > 1e-15 * Tau; i++)
        {
            double mid = 0.5 * (lo + hi);
            if (LogSnr(mid) > logSnr) lo = mid; else hi = mid;
        }
        return 0.5 * (lo + hi);
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name}(tau={Tau})";
}
