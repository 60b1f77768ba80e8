using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;

namespace MLExtensions.Diffusion.Plans;

/// <summary>Options of <see cref="StepGridOptimizer"/>.</summary>
public sealed class StepGridOptimizerOptions
{
    /// <summary>Latent rows the errors are measured on (default 512).</summary>
    public int Rows { get; set; } = 512;

    /// <summary>Seed of the latents (default 0).</summary>
    public int Seed { get; set; }

    /// <summary>Fine Heun steps of the reference between two consecutive candidate levels (default 16; four times as many
    /// from the lowest candidate to 0).</summary>
    public int ReferenceSubsteps { get; set; } = 16;

    /// <summary>The longest step, in candidate intervals (default int.MaxValue: any).</summary>
    public int MaxJump { get; set; } = int.MaxValue;

    /// <summary>Checks every option.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is below its minimum (Rows 2, ReferenceSubsteps 1, MaxJump 1).</exception>
    public void Validate()
    {
        if (Rows < 2) throw new ArgumentOutOfRangeException(nameof(Rows), Rows, "At least 2 rows are needed.");
        if (ReferenceSubsteps < 1) throw new ArgumentOutOfRangeException(nameof(ReferenceSubsteps), ReferenceSubsteps, "At least one reference sub-step is needed.");
        if (MaxJump < 1) throw new ArgumentOutOfRangeException(nameof(MaxJump), MaxJump, "MaxJump must be at least 1.");
    }
}
