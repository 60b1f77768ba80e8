namespace MLExtensions.Diffusion.Thermodynamics;

/// <summary>The one-step method of <see cref="ProbabilityFlow"/>.</summary>
public enum FlowIntegrator
{
    /// <summary>Explicit Euler: one velocity evaluation per step, first order.</summary>
    Euler,

    /// <summary>Heun's method (explicit trapezoid, EDM Algorithm 1): two evaluations per step, second order.</summary>
    Heun,
}
