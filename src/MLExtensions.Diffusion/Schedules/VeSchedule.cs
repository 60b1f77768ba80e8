namespace MLExtensions.Diffusion.Schedules;

/// <summary>
/// The variance-exploding schedule in the EDM parametrisation: m = 1, sigma(t) = t on [0, sigmaMax] (SPEC section 1).
/// </summary>
/// <remarks>
/// <para>Karras, Aittala, Aila, Laine, "Elucidating the design space of diffusion-based generative models" (EDM),
/// NeurIPS 2022, choose sigma(t) = t and s(t) = 1, so time is the noise level. The forward process is
/// dx = sqrt(2 t) dB: the drift vanishes and the bath temperature is T_t = t.</para>
/// <para>Log-SNR lambda = -ln t, inverted in closed form. For the EDM/Karras rho-spacing use
/// <see cref="TimeGrid.EdmRho"/>; on this schedule it returns the Karras noise levels themselves as times.</para>
/// </remarks>
public sealed class VeSchedule : NoiseSchedule
{
    /// <summary>Creates the VE schedule sigma(t) = t on [0, <paramref name="sigmaMax"/>].</summary>
    /// <param name="sigmaMax">The largest noise level, which is also the final time tau; finite and positive (EDM uses 80).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sigmaMax"/> is not finite and positive.</exception>
    public VeSchedule(double sigmaMax = 80.0) : base(ValidSigmaMax(sigmaMax))
    {
    }

    /// <summary>The largest noise level, equal to <see cref="NoiseSchedule.Tau"/>.</summary>
    public double SigmaMax => Tau;

    /// <inheritdoc />
    public override string Name => "ve";

    /// <inheritdoc />
    protected override double MCore(double t) => 1.0;

    /// <inheritdoc />
    protected override double SigmaCore(double t) => t;

    /// <inheritdoc />
    protected override double MDotCore(double t) => 0.0;

    /// <inheritdoc />
    protected override double SigmaDotCore(double t) => 1.0;

    /// <inheritdoc />
    protected override double LogSnrCore(double t) => -Math.Log(t);

    /// <summary>The time t = exp(-lambda), clamped to [0, <see cref="NoiseSchedule.MaxTime"/>].</summary>
    /// <param name="logSnr">The log-SNR lambda; not NaN.</param>
    /// <exception cref="ArgumentException"><paramref name="logSnr"/> is NaN.</exception>
    public override double TimeAtLogSnr(double logSnr)
    {
        if (double.IsNaN(logSnr)) throw new ArgumentException("The log-SNR must not be NaN.", nameof(logSnr));
        return Math.Min(Math.Exp(-logSnr), MaxTime);
    }

    private static double ValidSigmaMax(double sigmaMax)
    {
        ScheduleValidation.RequireFinitePositive(sigmaMax, nameof(sigmaMax));
        return sigmaMax;
    }
}
