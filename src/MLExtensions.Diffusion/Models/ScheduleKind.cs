using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Plans;

namespace MLExtensions.Diffusion.Models;

/// <summary>The noise schedule family a <see cref="DiffusionModelParameters"/> samples along (see <see cref="Schedules"/>).</summary>
public enum ScheduleKind
{
    /// <summary><see cref="Schedules.CosineSchedule"/> (the paper's cosine path); uses <see cref="ScoreMatchingOptions.ScheduleTau"/> and <see cref="ScoreMatchingOptions.ScheduleEndCutoff"/>.</summary>
    Cosine,

    /// <summary><see cref="Schedules.CondOtSchedule"/> (m = 1 - t, sigma = t); uses <see cref="ScoreMatchingOptions.ScheduleTau"/> and <see cref="ScoreMatchingOptions.ScheduleEndCutoff"/>.</summary>
    CondOt,

    /// <summary><see cref="Schedules.VpLinearSchedule"/> (Song et al. VP-SDE); uses <see cref="ScoreMatchingOptions.ScheduleTau"/>, <see cref="ScoreMatchingOptions.VpBetaMin"/> and <see cref="ScoreMatchingOptions.VpBetaMax"/>.</summary>
    VpLinear,

    /// <summary><see cref="Schedules.VpCosineSchedule"/> (Nichol and Dhariwal); uses <see cref="ScoreMatchingOptions.ScheduleTau"/> and <see cref="ScoreMatchingOptions.VpCosineOffset"/>.</summary>
    VpCosine,

    /// <summary><see cref="Schedules.VeSchedule"/> (m = 1, sigma = t); uses <see cref="ScoreMatchingOptions.VeSigmaMax"/>.</summary>
    Ve,
}
