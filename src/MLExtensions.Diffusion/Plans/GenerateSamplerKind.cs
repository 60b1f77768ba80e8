using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;

namespace MLExtensions.Diffusion.Plans;

/// <summary>The deterministic solvers <c>GenerateTransformer</c> offers (each one compiles to an ONNX graph).</summary>
public enum GenerateSamplerKind
{
    /// <summary><see cref="Samplers.HeunSampler"/> (EDM Algorithm 1; 2N - 1 network evaluations for N steps to sigma = 0).</summary>
    Heun,

    /// <summary><see cref="Samplers.EulerSampler"/> on the probability-flow ODE (N evaluations).</summary>
    Euler,

    /// <summary><see cref="Samplers.DdimSampler"/> with eta = 0 (N evaluations).</summary>
    Ddim,

    /// <summary><see cref="Samplers.DpmSolverPlusPlus2M"/> (N evaluations).</summary>
    DpmSolverPlusPlus2M,
}
