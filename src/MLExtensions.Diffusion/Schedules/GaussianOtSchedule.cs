namespace MLExtensions.Diffusion.Schedules;

/// <summary>
/// The optimal-transport schedule for Gaussian data N(mu0, s0^2 I) (SPEC section 4): m = 1 - u,
/// sigma = sqrt(u^2 + 2 s0 u (1 - u)), u = t / tau. Singular at u = 1 where m = 0, so it is integrated to tau (1 - eps).
/// </summary>
/// <remarks>
/// <para>Ikeda, Uda, Okanohara, Ito, arXiv:2407.04495, section on the optimal protocol. The constant-speed
/// 2-Wasserstein geodesic from q = N(mu0, s0^2 I) to N(0, I) is P_t = N((1 - u) mu0, S_t^2 I) with
/// S_t = (1 - u) s0 + u; the path x_t = m y + sigma eps has the same marginals because m^2 s0^2 + sigma^2 = S_t^2.
/// The mean mu0 does not enter the schedule.</para>
/// <para>Validity (T_t &gt;= 0) holds for every s0 &gt;= 0: with g = (sigma/m)^2 = (u^2 (1 - 2 s0) + 2 s0 u) / (1 - u)^2,
/// dg/du = 2 (s0 (1 - u) + u) / (1 - u)^3 &gt;= 0 on [0, 1). Hence T_t = m^2 g' / (2 tau) = (s0 + u (1 - s0)) / (tau (1 - u)),
/// finite at t = 0 (T_0 = s0 / tau) although dsigma/dt is infinite there for s0 &gt; 0. Note sigma itself is not
/// monotone when s0 &gt; 1 (it peaks at u = s0 / (2 s0 - 1)); only sigma/m is.</para>
/// <para>Inverse of the log-SNR: with r = exp(-2 lambda) = (sigma/m)^2, u = r / (s0 + r + sqrt(s0^2 + r)).
/// With s0 = 0 this is <see cref="CondOtSchedule"/>.</para>
/// </remarks>
public sealed class GaussianOtSchedule : NoiseSchedule
{
    /// <summary>Creates the OT schedule for Gaussian data with per-coordinate standard deviation <paramref name="dataStd"/>.</summary>
    /// <param name="dataStd">The data standard deviation s0; finite and non-negative.</param>
    /// <param name="tau">Final time, finite and positive.</param>
    /// <param name="endCutoff">Relative cut-off eps: the schedule is integrated to tau (1 - eps). In (0, 0.5).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public GaussianOtSchedule(double dataStd, double tau = 1.0, double endCutoff = 1e-3) : base(tau)
    {
        if (!double.IsFinite(dataStd) || dataStd < 0)
            throw new ArgumentOutOfRangeException(nameof(dataStd), dataStd, "'dataStd' (s0) must be finite and non-negative.");
        ScheduleValidation.RequireOpenInterval(endCutoff, 0, 0.5, nameof(endCutoff));
        DataStd = dataStd;
        EndCutoff = endCutoff;
    }

    /// <summary>The data standard deviation s0.</summary>
    public double DataStd { get; }

    /// <summary>The relative cut-off eps near the singular end: <see cref="NoiseSchedule.MaxTime"/> = tau (1 - eps).</summary>
    public double EndCutoff { get; }

    /// <inheritdoc />
    public override string Name => "gaussian-ot";

    /// <inheritdoc />
    public override double MaxTime => Tau * (1 - EndCutoff);

    /// <inheritdoc />
    protected override double MCore(double t) => 1 - t / Tau;

    /// <inheritdoc />
    protected override double SigmaCore(double t)
    {
        double u = t / Tau;
        return Math.Sqrt(u * u + 2 * DataStd * u * (1 - u));
    }

    /// <inheritdoc />
    protected override double MDotCore(double t) => -1 / Tau;

    /// <summary>dsigma/dt = (u + s0 (1 - 2 u)) / (tau sigma); +infinity at t = 0 when s0 &gt; 0.</summary>
    /// <param name="t">Time in [0, tau].</param>
    protected override double SigmaDotCore(double t)
    {
        double u = t / Tau;
        double s = Sigma(t);
        if (s == 0) return DataStd > 0 ? double.PositiveInfinity : 1 / Tau;
        return (u + DataStd * (1 - 2 * u)) / (Tau * s);
    }

    /// <summary>The bath temperature T_t = (s0 + u (1 - s0)) / (tau (1 - u)), exact also at t = 0.</summary>
    /// <param name="t">Time in [0, tau).</param>
    protected override double TemperatureCore(double t)
    {
        double u = t / Tau;
        return (DataStd + u * (1 - DataStd)) / (Tau * (1 - u));
    }

    /// <summary>
    /// The time with log-SNR <paramref name="logSnr"/> in closed form, u = r / (s0 + r + sqrt(s0^2 + r)) with
    /// r = exp(-2 lambda); clamped to [0, <see cref="NoiseSchedule.MaxTime"/>].
    /// </summary>
    /// <param name="logSnr">The log-SNR lambda; not NaN.</param>
    /// <exception cref="ArgumentException"><paramref name="logSnr"/> is NaN.</exception>
    public override double TimeAtLogSnr(double logSnr)
    {
        if (double.IsNaN(logSnr)) throw new ArgumentException("The log-SNR must not be NaN.", nameof(logSnr));
        double s0 = DataStd;
        double u;
        if (logSnr >= 0)
        {
            double r = Math.Exp(-2 * logSnr);
            if (r == 0) return 0;
            u = r / (s0 + r + Math.Sqrt(s0 * s0 + r));
        }
        else
        {
            double ir = Math.Exp(2 * logSnr); // 1 / r, in (0, 1)
            u = 1 / (1 + s0 * ir + Math.Sqrt(s0 * s0 * ir * ir + ir));
        }
        return Math.Min(Tau * u, MaxTime);
    }
}
