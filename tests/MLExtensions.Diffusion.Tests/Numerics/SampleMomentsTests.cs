using MathNet.Numerics.Statistics;
using MLExtensions.Diffusion.Numerics;

namespace MLExtensions.Diffusion.Tests.Numerics;

public class SampleMomentsTests
{
    private static double[] Rows(int n, int d, int seed)
    {
        var random = new Random(seed);
        var rows = new double[n * d];
        for (int i = 0; i < rows.Length; i++) rows[i] = random.NextDouble() * (1 + i % d) + i % d;
        return rows;
    }

    [Fact]
    public void UnitWeights_GiveMathNetsMeanAndCovarianceTimesNMinusOne()
    {
        const int n = 50, d = 3;
        var rows = Rows(n, d, 1);
        var mean = new double[d];
        var scatter = new double[d * d];
        Assert.Equal(n, SampleMoments.WeightedScatter(rows, d, [], mean, scatter));
        double[] Column(int j) => Enumerable.Range(0, n).Select(r => rows[r * d + j]).ToArray();
        for (int a = 0; a < d; a++)
        {
            Assert.Equal(Column(a).Mean(), mean[a], 12);
            for (int b = 0; b < d; b++)
                Assert.Equal(Statistics.Covariance(Column(a), Column(b)) * (n - 1), scatter[a * d + b], 9);
        }
    }

    [Fact]
    public void IntegerWeights_EqualRepeatedRows_AndZeroWeightsDropRows()
    {
        const int n = 20, d = 2;
        var rows = Rows(n, d, 2);
        var weights = Enumerable.Range(0, n).Select(r => (double)(r % 3)).ToArray();
        var repeated = Enumerable.Range(0, n).SelectMany(r => Enumerable.Repeat(r, r % 3)).SelectMany(r => rows.AsSpan(r * d, d).ToArray()).ToArray();
        var (mean, scatter, expectedMean, expectedScatter) = (new double[d], new double[d * d], new double[d], new double[d * d]);
        double total = SampleMoments.WeightedScatter(rows, d, weights, mean, scatter);
        Assert.Equal(weights.Sum(), total);
        Assert.Equal(repeated.Length / d, SampleMoments.WeightedScatter(repeated, d, [], expectedMean, expectedScatter));
        for (int i = 0; i < d; i++) Assert.Equal(expectedMean[i], mean[i], 12);
        for (int i = 0; i < d * d; i++) Assert.Equal(expectedScatter[i], scatter[i], 10);

        // All weights zero: nothing enters.
        Assert.Equal(0, SampleMoments.WeightedScatter(rows, d, new double[n], mean, scatter));
        Assert.All(mean.Concat(scatter), v => Assert.Equal(0, v));
    }
}
