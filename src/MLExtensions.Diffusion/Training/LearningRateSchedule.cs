namespace MLExtensions.Diffusion.Training;

/// <summary>
/// Linear warm-up from 0 to the peak over <see cref="WarmupSteps"/>, then cosine decay to
/// <see cref="FinalFraction"/> x peak at <see cref="TotalSteps"/> (Loshchilov and Hutter, SGDR, arXiv:1608.03983).
/// </summary>
public sealed class LearningRateSchedule
{
    /// <summary>A warm-up + cosine schedule.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public LearningRateSchedule(double peak, int totalSteps, int warmupSteps = 0, double finalFraction = 0.0)
    {
        if (!(peak > 0) || !double.IsFinite(peak)) throw new ArgumentOutOfRangeException(nameof(peak), peak, "The peak rate must be finite and positive.");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(totalSteps);
        if (warmupSteps < 0 || warmupSteps > totalSteps) throw new ArgumentOutOfRangeException(nameof(warmupSteps), warmupSteps, "Warm-up steps must lie in [0, totalSteps].");
        if (!(finalFraction >= 0 && finalFraction <= 1)) throw new ArgumentOutOfRangeException(nameof(finalFraction), finalFraction, "The final fraction must lie in [0, 1].");
        Peak = peak;
        TotalSteps = totalSteps;
        WarmupSteps = warmupSteps;
        FinalFraction = finalFraction;
    }

    /// <summary>The peak learning rate.</summary>
    public double Peak { get; }

    /// <summary>The step at which the decay ends.</summary>
    public int TotalSteps { get; }

    /// <summary>Warm-up length.</summary>
    public int WarmupSteps { get; }

    /// <summary>The final rate as a fraction of the peak.</summary>
    public double FinalFraction { get; }

    /// <summary>The rate for 0-based step <paramref name="step"/> (clamped after <see cref="TotalSteps"/>).</summary>
    public double At(int step)
    {
        if (step < WarmupSteps) return Peak * (step + 1) / WarmupSteps;
        int decaySteps = TotalSteps - WarmupSteps;
        double u = decaySteps <= 0 ? 1 : Math.Min(1.0, (double)(step - WarmupSteps) / decaySteps);
        double floor = FinalFraction * Peak;
        return floor + (Peak - floor) * 0.5 * (1 + Math.Cos(Math.PI * u));
    }
}
