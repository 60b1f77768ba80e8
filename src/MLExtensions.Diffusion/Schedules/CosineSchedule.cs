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
        if (!(endCutoff > 0 && endCutoff < 0.5))
            throw new ArgumentOutOfRangeException(nameof(endCutoff), endCutoff, "The end cut-off must lie in (0, 0.5).");
        EndCutoff = endCutoff;
    }

    /// <summary>The relative cut-off eps near the singular end: <see cref="NoiseSchedule.MaxTime"/> = tau (1 - eps).</summary>
    public double EndCutoff { get; }

    /// <inheritdoc />
    public override string Name => "cosine";

    /// <inheritdoc />
    public override double MaxTime => Tau * (1 - EndCutoff);

    /// <inheritdoc />
    public override double M(double t) => Math.Cos(0.5 * Math.PI * t / Tau);

    /// <inheritdoc />
    public override double Sigma(double t) => Math.Sin(0.5 * Math.PI * t / Tau);

    /// <inheritdoc />
    public override double MDot(double t) => -0.5 * Math.PI / Tau * Math.Sin(0.5 * Math.PI * t / Tau);

    /// <inheritdoc />
    public override double SigmaDot(double t) => 0.5 * Math.PI / Tau * Math.Cos(0.5 * Math.PI * t / Tau);

    /// <inheritdoc />
    public override double TimeAtLogSnr(double logSnr)
    {
        if (double.IsNaN(logSnr)) throw new ArgumentException("The log-SNR must not be NaN.", nameof(logSnr));
        // lambda = ln cot(pi u / 2)  =>  u = (2 / pi) atan(exp(-lambda)).
        return Tau * 2 / Math.PI * Math.Atan(Math.Exp(-logSnr));
    }
}
