namespace MLExtensions.Diffusion.Training;

/// <summary>
/// Thrown by <see cref="ScoreModelTrainer.Fit(ReadOnlySpan{float}, int, IProgress{TrainingProgress}?, CancellationToken)"/> (and so by <c>ScoreMatchingEstimator.Fit</c>) when training diverges: a
/// step's loss or gradient norm is not finite (the float32 gradients overflowed), or a weight became NaN or infinite. A
/// model trained on from that point would generate NaN rows, so training stops at that step instead of returning one.
/// The usual cure is a lower <see cref="TrainingOptions.LearningRate"/> (or a longer warm-up, or a smaller
/// <see cref="TrainingOptions.GradientClipNorm"/>); extreme values in the data are the other common cause.
/// </summary>
public sealed class TrainingDivergedException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="step">The 1-based step at which the non-finite value appeared.</param>
    /// <param name="totalSteps">The steps planned.</param>
    /// <param name="loss">That step's loss.</param>
    /// <param name="gradientNorm">That step's gradient norm before clipping.</param>
    /// <param name="message">The message.</param>
    public TrainingDivergedException(int step, int totalSteps, double loss, double gradientNorm, string message)
        : base(message)
    {
        Step = step;
        TotalSteps = totalSteps;
        Loss = loss;
        GradientNorm = gradientNorm;
    }

    /// <summary>The 1-based step at which training diverged.</summary>
    public int Step { get; }

    /// <summary>The steps planned.</summary>
    public int TotalSteps { get; }

    /// <summary>The loss of that step (possibly NaN or infinite).</summary>
    public double Loss { get; }

    /// <summary>The gradient norm of that step before clipping (possibly NaN or infinite).</summary>
    public double GradientNorm { get; }
}
