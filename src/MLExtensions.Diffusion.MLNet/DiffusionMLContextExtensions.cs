using Microsoft.ML;

namespace MLExtensions.Diffusion.MLNet;

/// <summary>The entry point of the diffusion API on <see cref="MLContext"/>.</summary>
public static class DiffusionMLContextExtensions
{
    /// <summary>The diffusion catalog of <paramref name="mlContext"/>: trainers and model loading.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="mlContext"/> is null.</exception>
    public static DiffusionCatalog Diffusion(this MLContext mlContext)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        return new DiffusionCatalog(mlContext);
    }
}
