namespace MLExtensions.Diffusion.MLNet;

/// <summary>The likelihood entry point on <see cref="DiffusionCatalog"/>: <c>mlContext.Diffusion().NegativeLogLikelihood(model)</c>.</summary>
public static class LikelihoodCatalogExtensions
{
    /// <summary>An estimator that appends the per-row negative log-likelihood (nats, data units) under <paramref name="model"/>.</summary>
    /// <param name="catalog">The diffusion catalog.</param>
    /// <param name="model">The diffusion model.</param>
    /// <param name="options">Settings; <see langword="null"/> for the defaults (exact divergence, Heun, 64 steps, column "NLL").</param>
    /// <returns>The estimator; its <c>Fit</c> returns a <see cref="LikelihoodTransformer"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="catalog"/> or <paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentException">An option is invalid (ParamName names it).</exception>
    public static LikelihoodEstimator NegativeLogLikelihood(this DiffusionCatalog catalog, DiffusionModel model, LikelihoodTransformOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new LikelihoodEstimator(catalog.Context, model, options);
    }
}
