using System.Buffers;
using MLExtensions.Diffusion.Randomness;

namespace MLExtensions.Diffusion.Transport;

/// <summary>
/// Sliced 2-Wasserstein distance: the root mean square, over random directions theta uniform on the unit sphere, of
/// the exact 1-D W2 between the projections &lt;theta, x&gt; of two point sets (computed by <see cref="Wasserstein1D"/>).
/// </summary>
/// <remarks>
/// SW2^2(a, b) = E_theta W2^2(theta# a, theta# b), estimated by Monte Carlo with a given number of directions
/// (Rabin, Peyre, Delon and Bernot, SSVM 2011; Bonneel, Rabin, Peyre and Pfister, J. Math. Imaging Vis. 51:22, 2015).
/// Directions are normalised standard normal vectors drawn from the injected <see cref="Random"/>. For a pure shift
/// by mu, SW2^2 = |mu|^2 / d. The two sets may have different sizes.
/// </remarks>
public static class SlicedWasserstein
{
    /// <summary>Monte Carlo estimate of the sliced W2 (square root of <see cref="W2Squared"/>).</summary>
    /// <inheritdoc cref="W2Squared"/>
    public static double W2(ReadOnlySpan<double> a, ReadOnlySpan<double> b, int dimension, int projections, Random random)
        => Math.Sqrt(W2Squared(a, b, dimension, projections, random));

    /// <summary>Monte Carlo estimate of SW2^2: the mean over <paramref name="projections"/> random directions of the 1-D W2^2.</summary>
    /// <param name="a">Row-major points, n rows of <paramref name="dimension"/> values.</param>
    /// <param name="b">Row-major points, m rows of <paramref name="dimension"/> values.</param>
    /// <param name="dimension">The dimension d (positive).</param>
    /// <param name="projections">Number of random directions (positive).</param>
    /// <param name="random">Source of the directions; a seeded instance gives a deterministic result.</param>
    /// <returns>The estimate (non-negative).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="random"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> or <paramref name="projections"/> is not positive.</exception>
    /// <exception cref="ArgumentException">A point set is empty, holds a non-finite value or has a length that is not a
    /// multiple of the dimension (the exception names it).</exception>
    public static double W2Squared(ReadOnlySpan<double> a, ReadOnlySpan<double> b, int dimension, int projections, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        int n = PointSetArguments.RequirePointSet(a, dimension, nameof(a));
        int m = PointSetArguments.RequirePointSet(b, dimension, nameof(b));
        if (projections <= 0)
            throw new ArgumentOutOfRangeException(nameof(projections), projections, $"'{nameof(projections)}' must be positive.");
        double[] pa = ArrayPool<double>.Shared.Rent(n);
        double[] pb = ArrayPool<double>.Shared.Rent(m);
        double[] theta = ArrayPool<double>.Shared.Rent(dimension);
        try
        {
            Span<double> direction = theta.AsSpan(0, dimension);
            double sum = 0;
            for (int k = 0; k < projections; k++)
            {
                double norm;
                do
                {
                    StandardNormal.Fill(random, direction);
                    norm = Math.Sqrt(System.Numerics.Tensors.TensorPrimitives.Dot<double>(direction, direction));
                } while (norm == 0);
                for (int j = 0; j < dimension; j++) direction[j] /= norm;
                Project(a, direction, pa.AsSpan(0, n));
                Project(b, direction, pb.AsSpan(0, m));
                sum += Wasserstein1D.PowerCostInPlace(pa.AsSpan(0, n), pb.AsSpan(0, m), 2.0);
            }
            return sum / projections;
        }
        finally
        {
            ArrayPool<double>.Shared.Return(pa);
            ArrayPool<double>.Shared.Return(pb);
            ArrayPool<double>.Shared.Return(theta);
        }
    }

    private static void Project(ReadOnlySpan<double> points, ReadOnlySpan<double> direction, Span<double> destination)
    {
        int d = direction.Length;
        for (int i = 0; i < destination.Length; i++)
            destination[i] = System.Numerics.Tensors.TensorPrimitives.Dot(points.Slice(i * d, d), direction);
    }
}
