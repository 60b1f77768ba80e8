namespace MLExtensions.Diffusion.Transport;

/// <summary>
/// The debiased Sinkhorn divergence S_eps(a, b) = OT_eps(a, b) - OT_eps(a, a) / 2 - OT_eps(b, b) / 2 and the three
/// entropic problems it is made of.
/// </summary>
public sealed class SinkhornDivergenceResult
{
    internal SinkhornDivergenceResult(SinkhornResult cross, SinkhornResult sourceSelf, SinkhornResult targetSelf)
    {
        Cross = cross;
        SourceSelf = sourceSelf;
        TargetSelf = targetSelf;
        Divergence = cross.RegularizedCost - 0.5 * sourceSelf.RegularizedCost - 0.5 * targetSelf.RegularizedCost;
    }

    /// <summary>S_eps(a, b), built from the regularised costs <see cref="SinkhornResult.RegularizedCost"/>.</summary>
    public double Divergence { get; }

    /// <summary>The problem OT_eps(a, b).</summary>
    public SinkhornResult Cross { get; }

    /// <summary>The problem OT_eps(a, a).</summary>
    public SinkhornResult SourceSelf { get; }

    /// <summary>The problem OT_eps(b, b).</summary>
    public SinkhornResult TargetSelf { get; }

    /// <summary>Whether all three problems converged.</summary>
    public bool Converged => Cross.Converged && SourceSelf.Converged && TargetSelf.Converged;
}
