using System.Numerics.Tensors;

namespace MLExtensions.Diffusion.Training;

/// <summary>Global-norm gradient clipping (Pascanu, Mikolov, Bengio, ICML 2013).</summary>
public static class GradientClipping
{
    /// <summary>Scales <paramref name="gradients"/> so that its L2 norm is at most <paramref name="maxNorm"/>; returns the norm before clipping.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxNorm"/> is not finite and positive.</exception>
    public static double ClipGlobalNorm(Span<float> gradients, double maxNorm)
    {
        if (!(maxNorm > 0) || !double.IsFinite(maxNorm)) throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "The maximum norm must be finite and positive.");
        double sum = 0;
        const int chunk = 4096;
        for (int i = 0; i < gradients.Length; i += chunk)
            sum += TensorPrimitives.SumOfSquares(gradients.Slice(i, Math.Min(chunk, gradients.Length - i)));
        double norm = Math.Sqrt(sum);
        if (norm > maxNorm) TensorPrimitives.Multiply(gradients, (float)(maxNorm / norm), gradients);
        return norm;
    }
}
