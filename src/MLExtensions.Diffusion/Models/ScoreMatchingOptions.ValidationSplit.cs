using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Plans;

namespace MLExtensions.Diffusion.Models;

/// <summary>The options of the validation split and early stopping.</summary>
public sealed partial class ScoreMatchingOptions
{
    /// <summary>The share of the rows held out from training to measure the denoising loss on (default 0: none; at most
    /// 0.5). With a split, the held-out loss is evaluated every <see cref="ReportInterval"/> steps (on the EMA weights, with
    /// noise levels and noise fixed once per run), reported in <see cref="Training.TrainingProgress.ValidationLoss"/> and
    /// <see cref="TrainingSummary.Validation"/>, and the model keeps the EMA weights of the best evaluation.</summary>
    public double ValidationFraction { get; set; }

    /// <summary>Seed of the choice of held-out rows and of their fixed noise (default 0).</summary>
    public int ValidationSeed { get; set; }

    /// <summary>Evaluations without a new best held-out loss after which training stops (default 0: never stop early).
    /// Needs <see cref="ValidationFraction"/> &gt; 0.</summary>
    public int EarlyStoppingPatience { get; set; }

    private void ValidateValidationSplit()
    {
        if (!(ValidationFraction >= 0 && ValidationFraction <= 0.5)) Throw(nameof(ValidationFraction), ValidationFraction, "must lie in [0, 0.5]");
        if (EarlyStoppingPatience < 0) Throw(nameof(EarlyStoppingPatience), EarlyStoppingPatience, "must be non-negative");
        if (EarlyStoppingPatience > 0 && ValidationFraction == 0)
            throw new ArgumentException($"The option {nameof(EarlyStoppingPatience)} = {EarlyStoppingPatience} needs a validation split: set {nameof(ValidationFraction)} above 0.", nameof(EarlyStoppingPatience));
    }
}
