using System.Globalization;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;

namespace MLExtensions.Diffusion.Plans;

/// <summary>The discretisation error of one plan (<see cref="DiscretisationError.Measure"/>).</summary>
/// <param name="Nfe">Network evaluations per row.</param>
/// <param name="Rms">Per-row RMS distance to the converged samples from the same latents (z units).</param>
/// <param name="SlicedW2">Sliced 2-Wasserstein distance between the plan's and the converged sample sets (z units).</param>
public readonly record struct PlanError(int Nfe, double Rms, double SlicedW2)
{
    /// <summary>"NFE 9: RMS 0.1234, sliced W2 0.0123".</summary>
    /// <returns>The text.</returns>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"NFE {Nfe}: RMS {Rms:G4}, sliced W2 {SlicedW2:G4}");
}
