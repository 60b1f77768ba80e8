using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Transport;

namespace MLExtensions.Diffusion.Tests.Transport;

public class MaximumMeanDiscrepancyTests
{
    private static double[] Sample(Random random, int n, int d, double shift)
    {
        var x = StandardNormal.Sample(random, n * d);
        for (int i = 0; i < n; i++) x[i * d] += shift;
        return x;
    }

    [Fact]
    public void UnbiasedEstimateIsNearZeroForTheSameLawAndPositiveForAShift()
    {
        const int seeds = 30, n = 80, d = 2;
        var same = new double[seeds];
        var shifted = new double[seeds];
        for (int s = 0; s < seeds; s++)
        {
            var random = new Random(100 + s);
            var x = Sample(random, n, d, 0);
            var y = Sample(random, n, d, 0);
            var z = Sample(random, n, d, 1.0);
            same[s] = MaximumMeanDiscrepancy.UnbiasedSquared(x, y, d);
            shifted[s] = MaximumMeanDiscrepancy.UnbiasedSquared(x, z, d);
        }
        (double mean, double se) Stats(double[] v)
        {
            double m = v.Average();
            return (m, Math.Sqrt(v.Sum(t => (t - m) * (t - m)) / (v.Length - 1) / v.Length));
        }
        var (m0, se0) = Stats(same);
        var (m1, se1) = Stats(shifted);
        Assert.True(Math.Abs(m0) < 4 * se0, $"same law: {m0} +- {se0}");
        Assert.Contains(same, v => v < 0); // unbiased: negative values occur
        Assert.True(m1 > 10 * se1 && m1 > 10 * Math.Abs(m0), $"shifted: {m1} +- {se1}");
    }

    [Fact]
    public void IsSymmetricAndMatchesDirectFormula()
    {
        var random = new Random(7);
        const int d = 3;
        var x = Sample(random, 6, d, 0);
        var y = Sample(random, 9, d, 0.5);
        double h = 1.3;
        double K(double[] p, int i, double[] q, int j)
        {
            double s = 0;
            for (int k = 0; k < d; k++) s += (p[i * d + k] - q[j * d + k]) * (p[i * d + k] - q[j * d + k]);
            return Math.Exp(-s / (2 * h * h));
        }
        double xx = 0, yy = 0, xy = 0;
        for (int i = 0; i < 6; i++) for (int j = 0; j < 6; j++) if (i != j) xx += K(x, i, x, j);
        for (int i = 0; i < 9; i++) for (int j = 0; j < 9; j++) if (i != j) yy += K(y, i, y, j);
        for (int i = 0; i < 6; i++) for (int j = 0; j < 9; j++) xy += K(x, i, y, j);
        double expected = xx / 30 + yy / 72 - 2 * xy / 54;
        Assert.Equal(expected, MaximumMeanDiscrepancy.UnbiasedSquared(x, y, d, h), 12);
        Assert.Equal(MaximumMeanDiscrepancy.UnbiasedSquared(x, y, d), MaximumMeanDiscrepancy.UnbiasedSquared(y, x, d), 12);
    }

    [Fact]
    public void MedianBandwidthIsMedianPairwiseDistance()
    {
        // Points 0, 1, 3 on a line and 7 in the second sample: distances 1, 3, 7, 2, 6, 4 -> median (3 + 4) / 2.
        Assert.Equal(3.5, MaximumMeanDiscrepancy.MedianBandwidth(new[] { 0.0, 1, 3 }, new[] { 7.0 }, 1), 14);
        // Odd number of pairs: 0, 1, 3 -> 1, 3, 2 -> 2.
        Assert.Equal(2.0, MaximumMeanDiscrepancy.MedianBandwidth(new[] { 0.0, 1 }, new[] { 3.0 }, 1), 14);
    }

    [Fact]
    public void RejectsBadInput()
    {
        var ok = new double[] { 0, 1, 2, 3 };
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => MaximumMeanDiscrepancy.UnbiasedSquared(new double[] { 0, 1 }, ok, 2)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => MaximumMeanDiscrepancy.UnbiasedSquared(ok, new[] { 0, double.NaN, 1, 2 }, 2)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => MaximumMeanDiscrepancy.UnbiasedSquared(ok, new double[3], 2)).ParamName);
        Assert.Equal("bandwidth", Assert.Throws<ArgumentOutOfRangeException>(() => MaximumMeanDiscrepancy.UnbiasedSquared(ok, ok, 2, 0)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => MaximumMeanDiscrepancy.UnbiasedSquared(new double[4], new double[4], 2)).ParamName);
        Assert.Equal("dimension", Assert.Throws<ArgumentOutOfRangeException>(() => MaximumMeanDiscrepancy.MedianBandwidth(ok, ok, 0)).ParamName);
    }
}
