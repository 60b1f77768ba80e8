namespace MLExtensions.Diffusion.Transport;

/// <summary>The solution of a linear assignment problem: a permutation and its total cost.</summary>
public sealed class AssignmentResult
{
    private readonly int[] _assignment;

    internal AssignmentResult(int[] assignment, double cost)
    {
        _assignment = assignment;
        Cost = cost;
    }

    /// <summary>Number of rows (= columns) n.</summary>
    public int Size => _assignment.Length;

    /// <summary>Row i is assigned to column <c>Assignment[i]</c>; a permutation of 0..n-1.</summary>
    public ReadOnlySpan<int> Assignment => _assignment;

    /// <summary>Total cost sum_i C[i, Assignment[i]] of the optimal assignment.</summary>
    public double Cost { get; }

    /// <summary>Mean cost per row, Cost / n (for a squared-Euclidean cost this is W2^2 of the empirical measures).</summary>
    public double MeanCost => Cost / _assignment.Length;
}
