using System.Diagnostics;
using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Transport;
using Xunit.Abstractions;

namespace MLExtensions.Diffusion.Tests.Transport;

public class AssignmentSolverTests
{
    private readonly ITestOutputHelper _output;

    public AssignmentSolverTests(ITestOutputHelper output) => _output = output;

    private static double BruteForce(double[] cost, int n)
    {
        var perm = Enumerable.Range(0, n).ToArray();
        double best = double.PositiveInfinity;
        void Recurse(int k, double partial)
        {
            if (k == n)
            {
                best = Math.Min(best, partial);
                return;
            }
            for (int t = k; t < n; t++)
            {
                (perm[k], perm[t]) = (perm[t], perm[k]);
                Recurse(k + 1, partial + cost[k * n + perm[k]]);
                (perm[k], perm[t]) = (perm[t], perm[k]);
            }
        }
        Recurse(0, 0);
        return best;
    }

    private static void AssertPermutation(ReadOnlySpan<int> assignment)
    {
        var seen = new bool[assignment.Length];
        foreach (int j in assignment)
        {
            Assert.InRange(j, 0, assignment.Length - 1);
            Assert.False(seen[j]);
            seen[j] = true;
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void MatchesBruteForceOnRandomMatrices(int seed)
    {
        var random = new Random(seed);
        for (int n = 1; n <= 7; n++)
        {
            var cost = new double[n * n];
            for (int k = 0; k < cost.Length; k++) cost[k] = random.NextDouble() * 10 - 3;
            // Some ties as well.
            if (n > 2) cost[1] = cost[n];
            var result = AssignmentSolver.Solve(cost, n);
            AssertPermutation(result.Assignment);
            double recomputed = 0;
            for (int i = 0; i < n; i++) recomputed += cost[i * n + result.Assignment[i]];
            Assert.Equal(recomputed, result.Cost, 10);
            Assert.Equal(BruteForce(cost, n), result.Cost, 10);
        }
    }

    [Theory]
    [InlineData(11, 2)]
    [InlineData(12, 3)]
    [InlineData(13, 1)]
    public void MatchesBruteForceOnPointSets(int seed, int dimension)
    {
        var random = new Random(seed);
        for (int n = 2; n <= 7; n++)
        {
            var a = StandardNormal.Sample(random, n * dimension);
            var b = StandardNormal.Sample(random, n * dimension);
            var result = AssignmentSolver.SolveSquaredEuclidean(a, b, dimension);
            AssertPermutation(result.Assignment);
            var cost = new double[n * n];
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    for (int k = 0; k < dimension; k++)
                    {
                        double diff = a[i * dimension + k] - b[j * dimension + k];
                        cost[i * n + j] += diff * diff;
                    }
            Assert.Equal(BruteForce(cost, n), result.Cost, 10);
            Assert.Equal(result.Cost / n, DiscreteOptimalTransport.W2Squared(a, b, dimension), 10);
        }
    }

    [Fact]
    public void OneDimensionalMatchesSortedCoupling()
    {
        // In 1-D the monotone coupling is optimal: compare with the quantile formula.
        var random = new Random(5);
        var a = StandardNormal.Sample(random, 300);
        var b = StandardNormal.Sample(random, 300);
        for (int i = 0; i < b.Length; i++) b[i] = 2 * b[i] + 1;
        Assert.Equal(Wasserstein1D.W2(a, b), DiscreteOptimalTransport.W2(a, b, 1), 9);
    }

    [Fact]
    public void LargeInstanceIsFastAndOptimalAgainstPermutedIdentity()
    {
        // n = 2000 in d = 2: the target is a permutation of the source, so the optimum is 0 and the solver must find it;
        // then an independent Gaussian instance for timing, checked for validity and a lower bound.
        const int n = 2000, d = 2;
        var random = new Random(21);
        var a = StandardNormal.Sample(random, n * d);
        var permutation = Enumerable.Range(0, n).OrderBy(_ => random.Next()).ToArray();
        var b = new double[n * d];
        for (int i = 0; i < n; i++)
            for (int k = 0; k < d; k++)
                b[permutation[i] * d + k] = a[i * d + k];
        var exact = AssignmentSolver.SolveSquaredEuclidean(a, b, d);
        Assert.Equal(0.0, exact.Cost, 12);
        for (int i = 0; i < n; i++) Assert.Equal(permutation[i], exact.Assignment[i]);

        var c = StandardNormal.Sample(random, n * d);
        var watch = Stopwatch.StartNew();
        var result = AssignmentSolver.SolveSquaredEuclidean(a, c, d);
        watch.Stop();
        _output.WriteLine($"n = {n}, d = {d}: {watch.Elapsed.TotalMilliseconds:F0} ms, W2^2 = {result.MeanCost:G6}");
        AssertPermutation(result.Assignment);
        Assert.True(watch.Elapsed.TotalSeconds < 10, $"took {watch.Elapsed.TotalSeconds:F1} s");
        // Any permutation costs at least the optimum; the identity pairing is a feasible competitor.
        double identity = 0;
        for (int i = 0; i < n * d; i++) identity += (a[i] - c[i]) * (a[i] - c[i]);
        Assert.True(result.Cost <= identity);
        // Sliced lower bound: W2^2 >= W2^2 of each coordinate's marginals.
        for (int k = 0; k < d; k++)
        {
            var ak = Enumerable.Range(0, n).Select(i => a[i * d + k]).ToArray();
            var ck = Enumerable.Range(0, n).Select(i => c[i * d + k]).ToArray();
            Assert.True(result.MeanCost >= Wasserstein1D.W2Squared(ak, ck) - 1e-12);
        }
    }

    [Fact]
    public void RejectsBadInput()
    {
        var e1 = Assert.Throws<ArgumentException>(() => AssignmentSolver.Solve(new double[5], 2));
        Assert.Equal("cost", e1.ParamName);
        var e2 = Assert.Throws<ArgumentException>(() => AssignmentSolver.Solve(new[] { 0, double.NaN, 1, 2 }, 2));
        Assert.Equal("cost", e2.ParamName);
        var e3 = Assert.Throws<ArgumentOutOfRangeException>(() => AssignmentSolver.Solve(Array.Empty<double>(), 0));
        Assert.Equal("size", e3.ParamName);
        var e4 = Assert.Throws<ArgumentException>(() => AssignmentSolver.SolveSquaredEuclidean(new double[4], new double[6], 2));
        Assert.Equal("target", e4.ParamName);
        var e5 = Assert.Throws<ArgumentException>(() => AssignmentSolver.SolveSquaredEuclidean(new double[5], new double[6], 2));
        Assert.Equal("source", e5.ParamName);
        var e6 = Assert.Throws<ArgumentException>(() => DiscreteOptimalTransport.W2(new double[4], Array.Empty<double>(), 2));
        Assert.Equal("b", e6.ParamName);
        var e7 = Assert.Throws<ArgumentOutOfRangeException>(() => DiscreteOptimalTransport.W2(new double[4], new double[4], 0));
        Assert.Equal("dimension", e7.ParamName);
    }
}
