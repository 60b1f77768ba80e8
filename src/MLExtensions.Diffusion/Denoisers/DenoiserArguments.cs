namespace MLExtensions.Diffusion.Denoisers;

/// <summary>The argument checks every <see cref="IDenoiser"/> shares, in one place.</summary>
internal static class DenoiserArguments
{
    /// <summary>Validates a <see cref="IDenoiser.Denoise"/> call and returns the row count.</summary>
    public static int Check(int dimension, ReadOnlySpan<double> x, double m, double sigma, Span<double> x0)
    {
        if (x.Length == 0 || x.Length % dimension != 0)
            throw new ArgumentException($"The input length {x.Length} is not a positive multiple of the dimension {dimension}.", nameof(x));
        if (x0.Length != x.Length)
            throw new ArgumentException($"The destination length {x0.Length} differs from the input length {x.Length}.", nameof(x0));
        if (!double.IsFinite(m) || m <= 0)
            throw new ArgumentOutOfRangeException(nameof(m), m, "The signal scale m must be finite and positive.");
        if (!double.IsFinite(sigma) || sigma < 0)
            throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "The noise scale sigma must be finite and non-negative.");
        return x.Length / dimension;
    }

    /// <summary>Validates a density or score call (m = 0 allowed when sigma &gt; 0) and returns the row count.</summary>
    public static int CheckDensity(int dimension, ReadOnlySpan<double> x, double m, double sigma)
    {
        if (x.Length == 0 || x.Length % dimension != 0)
            throw new ArgumentException($"The input length {x.Length} is not a positive multiple of the dimension {dimension}.", nameof(x));
        if (!double.IsFinite(m) || m < 0)
            throw new ArgumentOutOfRangeException(nameof(m), m, "The signal scale m must be finite and non-negative.");
        if (!double.IsFinite(sigma) || sigma < 0)
            throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "The noise scale sigma must be finite and non-negative.");
        if (m == 0 && sigma == 0)
            throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "The signal scale m and the noise scale sigma must not both be zero.");
        return x.Length / dimension;
    }

    /// <summary>Validates a <see cref="IDenoiserJacobian.JacobianVectorProduct"/> call and returns the row count.</summary>
    public static int CheckJacobian(int dimension, ReadOnlySpan<double> x, double m, double sigma, ReadOnlySpan<double> v, Span<double> x0, Span<double> jv)
    {
        int rows = Check(dimension, x, m, sigma, x0);
        if (v.Length != x.Length)
            throw new ArgumentException($"The tangent length {v.Length} differs from the input length {x.Length}.", nameof(v));
        if (jv.Length != x.Length)
            throw new ArgumentException($"The destination length {jv.Length} differs from the input length {x.Length}.", nameof(jv));
        if (((ReadOnlySpan<double>)x0).Overlaps(x) || ((ReadOnlySpan<double>)x0).Overlaps(v))
            throw new ArgumentException("The destination must not overlap the inputs.", nameof(x0));
        if (((ReadOnlySpan<double>)jv).Overlaps(x) || ((ReadOnlySpan<double>)jv).Overlaps(v) || jv.Overlaps(x0))
            throw new ArgumentException("The destination must not overlap the inputs or the other destination.", nameof(jv));
        if (!System.Numerics.Tensors.TensorPrimitives.IsFiniteAll(v))
            throw new ArgumentException("The tangents hold a non-finite value.", nameof(v));
        return rows;
    }
}
