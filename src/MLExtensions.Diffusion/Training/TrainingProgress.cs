namespace MLExtensions.Diffusion.Training;

/// <summary>A progress report of <see cref="ScoreModelTrainer"/>.</summary>
/// <param name="Step">Steps completed.</param>
/// <param name="TotalSteps">Steps planned.</param>
/// <param name="Loss">Mean loss over the steps since the previous report.</param>
/// <param name="LearningRate">The learning rate of the last step.</param>
/// <param name="GradientNorm">The gradient norm of the last step, before clipping.</param>
public readonly record struct TrainingProgress(int Step, int TotalSteps, double Loss, double LearningRate, double GradientNorm)
{
    /// <summary>The held-out denoising loss at this step (EMA weights; see
    /// <see cref="MLExtensions.Diffusion.Models.ScoreMatchingOptions.ValidationFraction"/>), NaN without a validation split.</summary>
    public double ValidationLoss { get; init; } = double.NaN;
}
