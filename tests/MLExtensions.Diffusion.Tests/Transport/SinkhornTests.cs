using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Transport;
using Xunit.Abstractions;

namespace MLExtensions.Diffusion.Tests.Transport;

public class SinkhornTests
{
    private readonly ITestOutputHelper _output;

    public SinkhornTests(ITestOutputHelper output) => _output = output;

    private static double[] Gaussian(Random random, int n, int d, double shift)
    {
        var x = StandardNormal.Sample(random, n * d);
        for (int i = 0; i < n; i++) x[i * d] += shift;
        return x;
    }

    [Fact]
    public void TransportCostApproachesExactAssignmentCostAsEpsilonShrinks()
    {
        const int n = 60, d = 2;
        var random = new Random(3);
        var a = Gaussian(random, n, d, 0);
        var b = Gaussian(random, n, d, 1.5);
        double exact = DiscreteOptimalTransport.W2Squared(a, b, d);
        double previousGap = double.PositiveInfinity;
        foreach (double eps in new[] { 1.0, 0.3, 0.1, 0.03 })
        {
            var result = Sinkhorn.Solve(a, b, d, new SinkhornOptions { Epsilon = eps, MaxIterations = 50_000, Tolerance = 1e-5, OverRelaxation = 1.8 });
            _output.WriteLine($"eps {eps}: cost {result.TransportCost:G6} vs exact {exact:G6}, {result.Iterations} iterations");
            Assert.True(result.Converged, $"eps {eps} did not converge");
            Assert.True(result.MarginalError < 1e-5);
            // Any coupling costs at least the optimum (up to the marginal error times the largest cost);
            // the entropic value adds a non-negative entropy term.
            Assert.True(result.TransportCost >= exact * (1 - 1e-3));
            Assert.True(result.RegularizedCost >= result.TransportCost - 1e-3);
            double gap = result.TransportCost - exact;
            Assert.True(gap < previousGap + 1e-9, $"gap grew at eps {eps}");
            previousGap = gap;
        }
        Assert.True(previousGap / exact < 0.03, $"relative gap {previousGap / exact:G3}");
    }

    [Fact]
    public void DivergenceVanishesOnASetAndSeparatesDistributions()
    {
        const int n = 80, d = 2;
        var random = new Random(8);
        var a = Gaussian(random, n, d, 0);
        var a2 = Gaussian(random, n, d, 0);
        var b = Gaussian(random, n, d, 2.0);
        var options = new SinkhornOptions { Epsilon = 0.1, MaxIterations = 20_000, Tolerance = 1e-4, OverRelaxation = 1.8 };

        var self = Sinkhorn.Divergence(a, a, d, options);
        Assert.True(self.Converged);
        Assert.Equal(0.0, self.Divergence, 9);

        var sameLaw = Sinkhorn.Divergence(a, a2, d, options);
        var shifted = Sinkhorn.Divergence(a, b, d, options);
        Assert.True(sameLaw.Converged && shifted.Converged);
        Assert.True(sameLaw.Divergence > 0);
        Assert.True(shifted.Divergence > 0);
        // Shift of 2 along one axis: W2^2 = 4 for the laws; the divergence of finite samples is close to it.
        Assert.True(shifted.Divergence > 10 * sameLaw.Divergence);
        Assert.InRange(shifted.Divergence, 3.0, 5.0);
        // Symmetric in its arguments.
        Assert.Equal(shifted.Divergence, Sinkhorn.Divergence(b, a, d, options).Divergence, 3);
    }

    [Fact]
    public void WeightsActLikeRepeatedPoints()
    {
        const int d = 2;
        var random = new Random(4);
        var a = Gaussian(random, 7, d, 0);
        var b = Gaussian(random, 9, d, 1);
        // Duplicate the first point of a: uniform weights on the 8 points equal weight 2/8 on it with 7 points.
        var aDup = new double[8 * d];
        a.CopyTo(aDup, 0);
        aDup[7 * d] = a[0];
        aDup[7 * d + 1] = a[1];
        var weights = new double[] { 2, 1, 1, 1, 1, 1, 1 };
        var uniformB = Enumerable.Repeat(3.0, 9).ToArray(); // unnormalised on purpose
        var options = new SinkhornOptions { Epsilon = 0.2, Tolerance = 1e-10, MaxIterations = 10_000 };
        var dup = Sinkhorn.Solve(aDup, b, d, options);
        var weighted = Sinkhorn.Solve(a, weights, b, uniformB, d, options);
        Assert.Equal(dup.TransportCost, weighted.TransportCost, 8);
        Assert.Equal(dup.RegularizedCost, weighted.RegularizedCost, 8);
    }

    [Fact]
    public void ReportsNonConvergence()
    {
        var random = new Random(1);
        var a = Gaussian(random, 30, 2, 0);
        var b = Gaussian(random, 30, 2, 3);
        var result = Sinkhorn.Solve(a, b, 2, new SinkhornOptions { Epsilon = 0.001, MaxIterations = 2, Tolerance = 1e-12 });
        Assert.False(result.Converged);
        Assert.Equal(2, result.Iterations);
        Assert.True(result.MarginalError > 1e-12);
    }

    [Fact]
    public void RejectsBadInput()
    {
        var ok = new double[] { 0, 0, 1, 1 };
        Assert.Equal("Epsilon", Assert.Throws<ArgumentOutOfRangeException>(() => new SinkhornOptions { Epsilon = 0 }).ParamName);
        Assert.Equal("Epsilon", Assert.Throws<ArgumentOutOfRangeException>(() => new SinkhornOptions { Epsilon = double.NaN }).ParamName);
        Assert.Equal("MaxIterations", Assert.Throws<ArgumentOutOfRangeException>(() => new SinkhornOptions { MaxIterations = 0 }).ParamName);
        Assert.Equal("Tolerance", Assert.Throws<ArgumentOutOfRangeException>(() => new SinkhornOptions { Tolerance = -1 }).ParamName);
        Assert.Equal("EpsilonScaling", Assert.Throws<ArgumentOutOfRangeException>(() => new SinkhornOptions { EpsilonScaling = 1.5 }).ParamName);
        Assert.Equal("OverRelaxation", Assert.Throws<ArgumentOutOfRangeException>(() => new SinkhornOptions { OverRelaxation = 2 }).ParamName);
        Assert.Equal("source", Assert.Throws<ArgumentException>(() => Sinkhorn.Solve(Array.Empty<double>(), ok, 2)).ParamName);
        Assert.Equal("target", Assert.Throws<ArgumentException>(() => Sinkhorn.Solve(ok, new double[] { 0, double.NaN }, 2)).ParamName);
        Assert.Equal("target", Assert.Throws<ArgumentException>(() => Sinkhorn.Divergence(ok, new double[3], 2)).ParamName);
        Assert.Equal("sourceWeights", Assert.Throws<ArgumentException>(() => Sinkhorn.Solve(ok, new double[] { 1 }, ok, new double[] { 1, 1 }, 2)).ParamName);
        Assert.Equal("targetWeights", Assert.Throws<ArgumentException>(() => Sinkhorn.Solve(ok, new double[] { 1, 1 }, ok, new double[] { 1, -1 }, 2)).ParamName);
        Assert.Equal("dimension", Assert.Throws<ArgumentOutOfRangeException>(() => Sinkhorn.Solve(ok, ok, -1)).ParamName);
    }
}
