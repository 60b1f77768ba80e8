namespace MLExtensions.Diffusion.Service;

/// <summary>A sampling plan as the API shows it.</summary>
/// <param name="Sampler">The solver, e.g. "Heun".</param>
/// <param name="Steps">Solver steps.</param>
/// <param name="Nfe">Network evaluations per row.</param>
/// <param name="Description">One line, e.g. "Heun, 20 steps (NFE 39) on cosine(tau=1) from sigma/m = 20.09".</param>
public sealed record ServedPlan(string Sampler, int Steps, int Nfe, string Description);
