namespace MLExtensions.Diffusion.MLNet;

/// <summary>Generation entry points of <c>mlContext.Diffusion()</c> (extension methods, as ML.NET extends its own catalogs).</summary>
/// <example>
/// <code>
/// IDataView rows = mlContext.Diffusion().Generate(model, count: 1_000_000, seed: 7);   // streamed, batch by batch
/// using var generator = mlContext.Diffusion().Generate(model, new GenerateOptions { InputColumnName = "Noise" });
/// IDataView generated = generator.Transform(latents);
/// </code>
/// </example>
public static class GenerateCatalogExtensions
{
    /// <summary>A generator for <paramref name="model"/> (see <see cref="GenerateTransformer"/>).</summary>
    /// <param name="catalog">The catalog.</param>
    /// <param name="model">The trained model.</param>
    /// <param name="options">The options, or null for the defaults.</param>
    /// <returns>A transformer the caller disposes.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="catalog"/> or <paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public static GenerateTransformer Generate(this DiffusionCatalog catalog, DiffusionModel model, GenerateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new GenerateTransformer(model, options);
    }

    /// <summary>A generator from a compiled sampler file (see <see cref="GenerateTransformer.LoadSamplerOnnx"/>).</summary>
    /// <param name="catalog">The catalog.</param>
    /// <param name="path">The <c>.onnx</c> file.</param>
    /// <param name="options">The options, or null for the defaults.</param>
    /// <returns>A transformer the caller disposes.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="catalog"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is blank or an option is invalid.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a compiled sampler (the message names it).</exception>
    public static GenerateTransformer GenerateFromSamplerOnnx(this DiffusionCatalog catalog, string path, GenerateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return GenerateTransformer.LoadSamplerOnnx(path, options);
    }

    /// <summary>
    /// <paramref name="count"/> generated rows as a streaming view (<see cref="GenerateTransformer.GenerateRows"/>): rows are
    /// produced batch by batch as a cursor moves and never all held, so any count runs in memory bounded by the batch size.
    /// Row i depends only on (seed, i), not on the batch size: its latent is <see cref="GenerateTransformer.StreamLatent"/>(seed, i),
    /// the same seed contract as <see cref="DiffusionModelParameters.Generate"/>, so <c>model.Generate(n, seed)</c> returns the same rows
    /// (exactly with <see cref="GenerateEngine.CSharp"/>, up to float32 rounding with the ONNX engines). The view keeps its generator (and its ONNX session) alive;
    /// the session is released when the view is collected.
    /// </summary>
    /// <param name="catalog">The catalog.</param>
    /// <param name="model">The trained model.</param>
    /// <param name="count">Rows, in [1, 2^40).</param>
    /// <param name="seed">Seed of the stream.</param>
    /// <param name="options">The options (<see cref="GenerateOptions.InputColumnName"/> is not used), or null for the defaults.</param>
    /// <returns>A view with columns <c>Row</c> (long) and the generated column(s).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="catalog"/> or <paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is out of range.</exception>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public static Microsoft.ML.IDataView Generate(this DiffusionCatalog catalog, DiffusionModel model, long count, int seed, GenerateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(model);
        if (count < 1 || count >= 1L << 40)
            throw new ArgumentOutOfRangeException(nameof(count), count, "'count' must lie in [1, 2^40).");
        return new GenerateTransformer(model, options).GenerateRows(count, seed);
    }
}
