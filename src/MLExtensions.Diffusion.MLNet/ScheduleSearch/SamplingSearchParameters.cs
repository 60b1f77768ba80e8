using Microsoft.ML.SearchSpace;
using MLExtensions.Diffusion.MLNet;

namespace MLExtensions.Diffusion.ScheduleSearch;

/// <summary>
/// The sampling side of a schedule search: path, grid and its parameter, noise-level range, solver and NFE, declared with
/// ML.NET's public search-space attributes so that <c>SearchSpace.FromType&lt;SamplingSearchParameters&gt;()</c> (or AutoML's
/// own <c>SearchSpace&lt;T&gt;</c>) builds the space. <see cref="DiffusionTrialRunner"/> evaluates a point.
/// </summary>
/// <remarks>Every point is sampled by the same trained network: only sampling changes, so trials reuse it.</remarks>
public sealed class SamplingSearchParameters
{
    /// <summary>The Gaussian path: "training" (the model's schedule), "gaussian-ot" (the OT schedule of the data's
    /// isotropic moments) or "fitted-path" (the least-kinetic-cost Gaussian path fitted with the model's denoiser).</summary>
    [Choice(DiffusionTrialRunner.TrainingPath, DiffusionTrialRunner.GaussianOtPath, DiffusionTrialRunner.FittedPath)]
    public string Path { get; set; } = DiffusionTrialRunner.TrainingPath;

    /// <summary>The grid kind.</summary>
    [Choice(nameof(SamplingGridKind.EdmRho), nameof(SamplingGridKind.UniformLogSnr), nameof(SamplingGridKind.UniformTime),
        nameof(SamplingGridKind.UniformAngle), nameof(SamplingGridKind.EqualLength), nameof(SamplingGridKind.DynamicProgramming))]
    public SamplingGridKind Grid { get; set; } = SamplingGridKind.EdmRho;

    /// <summary>The EDM exponent rho of <see cref="SamplingGridKind.EdmRho"/> grids (ignored by the others).</summary>
    [Range(1.0, 12.0, 7.0, false)]
    public double Rho { get; set; } = 7.0;

    /// <summary>The noise level sigma/m where sampling starts (capped at the path's top and at what the network can follow).</summary>
    [Range(2.0, 120.0, 20.0, true)]
    public double TopNoiseLevel { get; set; } = 20.0;

    /// <summary>The last positive level of the EDM-rho, log-SNR and dynamic-programming grids.</summary>
    [Range(0.0005, 0.05, 0.002, true)]
    public double BottomNoiseLevel { get; set; } = 0.002;

    /// <summary>The solver.</summary>
    [Choice(nameof(GenerateSamplerKind.Heun), nameof(GenerateSamplerKind.Euler), nameof(GenerateSamplerKind.Ddim), nameof(GenerateSamplerKind.DpmSolverPlusPlus2M))]
    public GenerateSamplerKind Sampler { get; set; } = GenerateSamplerKind.Heun;

    /// <summary>The budget, network evaluations per row (Heun uses (Nfe + 1) / 2 steps).</summary>
    [Range(3, 31, 9, false)]
    public int Nfe { get; set; } = 9;
}
