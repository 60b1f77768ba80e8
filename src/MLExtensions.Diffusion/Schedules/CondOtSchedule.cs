namespace MLExtensions.Diffusion.Schedules;

/// <summary>
/// The conditional optimal-transport (rectified-flow) path m = 1 - u, sigma = u, u = t / tau (SPEC section 1).
/// Singular at u = 1 where m = 0, so it is integrated to tau (1 - eps).
/// </summary>
/// <remarks>
/// <para>Lipman et al., "Flow matching for generative modeling", ICLR 2023; Liu et al., "Flow straight and fast:
/// learning to generate and transfer data with rectified flow", ICLR 2023.</para>
/// <para>Closed forms: T_t = u / (tau (1 - u)), lambda = ln((1 - u) / u), u(lambda) = 1 / (1 + exp(lambda)).</para>
/// </remarks>
public sealed class CondOtSchedule : NoiseSchedule
{
    /// <summary>Creates the cond-OT schedule on [0, tau].</summary>
    /// <param name="tau">Final time, finite and positive.</param>
    /// <param name="endCutoff">Relative cut-off eps: the schedule is integrated to tau (1 - eps). In (0, 0.5).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public CondOtSchedule(double tau = 1.0, double endCutoff = 1e-3) : base(tau)
    {
        ScheduleValidation.RequireOpenInterval(endCutoff, 0, 0.5, nameof(endCutoff));
        EndCutoff = endCutoff;
    }

    /// <summary>The relative cut-off eps near the singular end: <see cref="NoiseSchedule.MaxTime"/> = tau (1 - eps).</summary>
    public double EndCutoff { get; }

    /// <inheritdoc />
    public override string Name => "cond-ot";

    /// <inheritdoc />
    public override double MaxTime => Tau * (1 - EndCutoff);

    /// <inheritdoc />
    protected override double MCore(double t) => 1 - t / Tau;

    /// <inheritdoc />
    protected override double SigmaCore(double t) => t / Tau;

    /// <inheritdoc />
    protected override double MDotCore(double t) => -1 / Tau;

    /// <inheritdoc />
    protected override double SigmaDotCore(double t) => 1 / Tau;

    /// <inheritdoc />
    protected override double LogSnrCore(double t) => Math.Log((Tau - t) / t);

    /// <summary>The time t = tau / (1 + exp(lambda)), clamped to [0, <see cref="NoiseSchedule.MaxTime"/>].</summary>
    /// <param name="logSnr">The log-SNR lambda; not NaN.</param>
    /// <exception cref="ArgumentException"><paramref name="logSnr"/> is NaN.</exception>
    public override double TimeAtLogSnr(double logSnr)
    {
        if (double.IsNaN(logSnr)) throw new ArgumentException("The log-SNR must not be NaN.", nameof(logSnr));
        return Math.Min(Tau / (1 + Math.Exp(logSnr)), MaxTime);
    }
}
