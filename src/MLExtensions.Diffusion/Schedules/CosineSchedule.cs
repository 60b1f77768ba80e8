namespace MLExtensions.Diffusion.Schedules;

/// <summary>
/// The cosine path of Ikeda et al.: m = cos(pi u / 2), sigma = sin(pi u / 2), u = t / tau (SPEC section 1).
/// Variance preserving and singular at u = 1 where m = 0.
/// </summary>
public sealed class CosineSchedule : NoiseSchedule
{
    /// <summary>Creates the cosine schedule on [0, tau].</summary>
    /// <param name="tau">Final time, finite and positive.</param>
    /// <param name="endCutoff">Relative cut-off eps: the schedule is integrated to tau (1 - eps). In (0, 0.5).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public CosineSchedule(double tau = 1.0, double endCutoff = 1e-3) : base(tau)
    {
        ScheduleValidation.RequireOpenInterval(endCutoff, 0, 0.5, nameof(endCutoff));
        EndCutoff = endCutoff;
    }

    /// <summary>The relative cut-off eps near the singular end: <see cref="NoiseSchedule.MaxTime"/> = tau (1 - eps).</summary>
    public double EndCutoff { get; }

    /// <inheritdoc />
    public override string Name => "cosine";

    /// <inheritdoc />
    public override double MaxTime => Tau * (1 - EndCutoff);

    /// <inheritdoc />
    protected override double MCore(double t) => Math.Cos(0.5 * Math.PI * t / Tau);

    /// <inheritdoc />
    protected override double SigmaCore(double t) => Math.Sin(0.5 * Math.PI * t / Tau);

    /// <inheritdoc />
    protected override double MDotCore(double t) => -0.5 * Math.PI / Tau * Math.Sin(0.5 * Math.PI * t / Tau);

    /// <inheritdoc />
    protected override double SigmaDotCore(double t) => 0.5 * Math.PI / Tau * Math.Cos(0.5 * Math.PI * t / Tau);

    /// <summary>The bath temperature T_t = -d/dt ln m = (pi / (2 tau)) tan(pi u / 2) (VP identity).</summary>
    /// <param name="t">Time in [0, tau).</param>
    protected override double TemperatureCore(double t) => 0.5 * Math.PI / Tau * Math.Tan(0.5 * Math.PI * t / Tau);

    /// <inheritdoc />
    protected override double LogSnrCore(double t) => -Math.Log(Math.Tan(0.5 * Math.PI * t / Tau));

    /// <summary>
    /// The time with log-SNR <paramref name="logSnr"/>: lambda = ln cot(pi u / 2), so u = (2 / pi) atan(exp(-lambda));
    /// clamped to [0, <see cref="NoiseSchedule.MaxTime"/>].
    /// </summary>
    /// <param name="logSnr">The log-SNR lambda; not NaN.</param>
    /// <exception cref="ArgumentException"><paramref name="logSnr"/> is NaN.</exception>
    public override double TimeAtLogSnr(double logSnr)
    {
        if (double.IsNaN(logSnr)) throw new ArgumentException("The log-SNR must not be NaN.", nameof(logSnr));
        return Math.Min(Tau * 2 / Math.PI * Math.Atan(Math.Exp(-logSnr)), MaxTime);
    }
}
