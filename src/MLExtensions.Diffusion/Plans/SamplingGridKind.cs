using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;

namespace MLExtensions.Diffusion.Plans;

/// <summary>How the N-step time grid of a <see cref="SamplingPlan"/> is spaced between a top and a bottom noise level
/// (<see cref="SamplingPlan.Create"/>); every grid ends with a step to t = 0.</summary>
public enum SamplingGridKind
{
    /// <summary>EDM/Karras rho spacing of the noise level sigma/m (rho = 7 by default; Karras et al. 2022).</summary>
    EdmRho,

    /// <summary>Uniform in the log signal-to-noise ratio, i.e. geometric in the noise level.</summary>
    UniformLogSnr,

    /// <summary>Uniform in the schedule's time t.</summary>
    UniformTime,

    /// <summary>Equal length per step in a given speed v(t), e.g. the Wasserstein speed sqrt(E|nu_t|^2)
    /// (<see cref="Thermodynamics.ScheduleRetiming.EqualLengthSteps"/>).</summary>
    EqualLength,

    /// <summary>Chosen by dynamic programming over candidate levels on measured step errors (<see cref="StepGridOptimizer"/>);
    /// not built by <see cref="SamplingPlan.Create"/>, which has no model to measure.</summary>
    DynamicProgramming,

    /// <summary>Uniform in the polar angle phi = atan(sigma/m) of the point (m, sigma): noise levels tan(phi_i) with phi_i
    /// equally spaced from atan(top) down to 0 (so the last level is 0 and the bottom level is not used). On the cosine
    /// schedule, whose (m, sigma) = (cos phi, sin phi), it is uniform t. The default plan's grid.</summary>
    UniformAngle,
}
