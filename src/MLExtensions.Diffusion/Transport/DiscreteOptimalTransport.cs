namespace MLExtensions.Diffusion.Transport;

/// <summary>
/// Exact 2-Wasserstein distance between the empirical measures of two equal-size point sets (uniform weights), through
/// the linear assignment problem solved by <see cref="AssignmentSolver"/>.
/// </summary>
/// <remarks>
/// With uniform weights and equal sizes an optimal plan can be taken to be a permutation (Birkhoff-von Neumann), so
/// W2^2 = min_pi (1/n) sum_i |a_i - b_pi(i)|^2 (Peyre and Cuturi, <i>Computational Optimal Transport</i>, 2019, section 2.2).
/// </remarks>
public static class DiscreteOptimalTransport
{
    /// <summary>W2 between the empirical measures of two equal-size point sets.</summary>
    /// <inheritdoc cref="W2Squared"/>
    public static double W2(ReadOnlySpan<double> a, ReadOnlySpan<double> b, int dimension)
        => Math.Sqrt(W2Squared(a, b, dimension));

    /// <summary>W2^2 = (1/n) min over permutations of sum_i |a_i - b_pi(i)|^2.</summary>
    /// <param name="a">Row-major points, n rows of <paramref name="dimension"/> values.</param>
    /// <param name="b">Row-major points, n rows of <paramref name="dimension"/> values.</param>
    /// <param name="dimension">The dimension d (positive).</param>
    /// <returns>The squared distance.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is not positive.</exception>
    /// <exception cref="ArgumentException">A point set is empty, holds a non-finite value or has a length that is not a
    /// multiple of the dimension, or <paramref name="b"/> has a different number of points than <paramref name="a"/>.</exception>
    public static double W2Squared(ReadOnlySpan<double> a, ReadOnlySpan<double> b, int dimension)
    {
        int n = PointSetArguments.RequirePointSet(a, dimension, nameof(a));
        int m = PointSetArguments.RequirePointSet(b, dimension, nameof(b));
        if (n != m)
            throw new ArgumentException($"The argument '{nameof(b)}' has {m} points; expected {n}, as many as '{nameof(a)}'.", nameof(b));
        return AssignmentSolver.SolveSquaredEuclidean(a, b, dimension).MeanCost;
    }
}
