using MathNet.Numerics.Distributions;
using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Transport;

namespace MLExtensions.Diffusion.Tests.Transport;

public class Wasserstein1DTests
{
    private static double[] Gaussian(Random random, int n, double mean, double sd)
    {
        var x = StandardNormal.Sample(random, n);
        for (int i = 0; i < n; i++) x[i] = mean + sd * x[i];
        return x;
    }

    [Fact]
    public void EqualSizeSamplesMatchSortedPairing()
    {
        var random = new Random(1);
        var a = Gaussian(random, 50, 0, 1);
        var b = Gaussian(random, 50, 1, 3);
        var aCopy = (double[])a.Clone();
        var sa = a.OrderBy(v => v).ToArray();
        var sb = b.OrderBy(v => v).ToArray();
        foreach (double p in new[] { 1.0, 1.5, 2.0, 3.0 })
        {
            double expected = Math.Pow(sa.Zip(sb, (u, v) => Math.Pow(Math.Abs(u - v), p)).Average(), 1 / p);
            Assert.Equal(expected, Wasserstein1D.Distance(a, b, p), 12);
        }
        Assert.Equal(aCopy, a); // inputs are not mutated
    }

    [Fact]
    public void DifferentSizesMatchReplicatedEqualSizeProblem()
    {
        // n = 4, m = 6: replicating a three times and b twice gives equal sizes 12 and the same empirical measures.
        var random = new Random(2);
        var a = Gaussian(random, 4, 0, 1);
        var b = Gaussian(random, 6, 0.5, 2);
        var ra = Enumerable.Repeat(a, 3).SelectMany(v => v).OrderBy(v => v).ToArray();
        var rb = Enumerable.Repeat(b, 2).SelectMany(v => v).OrderBy(v => v).ToArray();
        double w1 = ra.Zip(rb, (u, v) => Math.Abs(u - v)).Average();
        double w2 = Math.Sqrt(ra.Zip(rb, (u, v) => (u - v) * (u - v)).Average());
        Assert.Equal(w1, Wasserstein1D.W1(a, b), 12);
        Assert.Equal(w2, Wasserstein1D.W2(a, b), 12);
        Assert.Equal(w2 * w2, Wasserstein1D.W2Squared(b, a), 12);
    }

    [Fact]
    public void LargeGaussianSamplesApproachClosedFormW2()
    {
        var random = new Random(3);
        var a = Gaussian(random, 40_000, 0.5, 1.0);
        var b = Gaussian(random, 30_000, -1.0, 2.0);
        double expected = Math.Sqrt(1.5 * 1.5 + 1.0 * 1.0);
        Assert.Equal(expected, Wasserstein1D.W2(a, b), 1.5e-2);
        Assert.Equal(expected, GaussianWasserstein.W2(0.5, 1.0, -1.0, 2.0), 14);
    }

    [Fact]
    public void QuantileRouteGivesEqualMeanGaussianW1()
    {
        foreach (var (s, t) in new[] { (1.0, 2.0), (0.3, 0.1), (1.0, 1.5) })
        {
            double w1 = Wasserstein1D.Distance(u => Normal.InvCDF(0, s, u), u => Normal.InvCDF(0, t, u), 1.0);
            Assert.Equal(Math.Abs(s - t) * Math.Sqrt(2 / Math.PI), w1, 1e-6 * Math.Max(s, t));
            // W2 between Gaussians = sqrt(dm^2 + ds^2).
            double w2 = Wasserstein1D.Distance(u => Normal.InvCDF(1, s, u), u => Normal.InvCDF(0, t, u), 2.0);
            Assert.Equal(GaussianWasserstein.W2(1, s, 0, t), w2, 1e-5);
        }
    }

    [Fact]
    public void CdfRouteEqualsQuantileRoute()
    {
        // Crossing CDFs: N(1, 1) against N(0, 2^2); and a logistic law against a Gaussian.
        double viaCdf = Wasserstein1D.W1FromCdfs(x => Normal.CDF(1, 1, x), x => Normal.CDF(0, 2, x), -30, 30);
        double viaQuantile = Wasserstein1D.Distance(u => Normal.InvCDF(1, 1, u), u => Normal.InvCDF(0, 2, u), 1.0);
        Assert.Equal(viaQuantile, viaCdf, 1e-6);

        double logisticCdf(double x) => 1 / (1 + Math.Exp(-x));
        double logisticQuantile(double u) => Math.Log(u / (1 - u));
        double a = Wasserstein1D.W1FromCdfs(logisticCdf, x => Normal.CDF(0.3, 1.2, x), -60, 60);
        double b = Wasserstein1D.Distance(logisticQuantile, u => Normal.InvCDF(0.3, 1.2, u), 1.0);
        Assert.Equal(b, a, 1e-6);
        // Equal-mean Gaussians by the CDF route.
        Assert.Equal(Math.Sqrt(2 / Math.PI), Wasserstein1D.W1FromCdfs(x => Normal.CDF(0, 1, x), x => Normal.CDF(0, 2, x), -40, 40), 1e-7);
    }

    [Fact]
    public void SampleAgainstUniformQuantileMatchesClosedForm()
    {
        // Sample {c_k} against U(0, 1) (quantile u -> u): W_p^p = sum_k integral over ((k-1)/n, k/n] of |c_(k) - u|^p du.
        var sample = new[] { 0.7, 0.2, 0.9, 0.1, 0.55 };
        var sorted = sample.OrderBy(v => v).ToArray();
        int n = sorted.Length;
        double PowerIntegral(double c, double l, double r, double p)
        {
            // integral_l^r |c - u|^p du
            double F(double u) => (u >= c ? 1 : -1) * Math.Pow(Math.Abs(u - c), p + 1) / (p + 1);
            return F(r) - F(l);
        }
        foreach (double p in new[] { 1.0, 2.0 })
        {
            double sum = 0;
            for (int k = 0; k < n; k++) sum += PowerIntegral(sorted[k], (double)k / n, (double)(k + 1) / n, p);
            double expected = Math.Pow(sum, 1 / p);
            // |c - u|^p has a kink at u = c inside one cosine cell: O(h^2) error there.
            Assert.Equal(expected, Wasserstein1D.Distance(sample, u => u, p), 1e-7);
        }
        Assert.Equal(0.7, sample[0]); // not mutated
    }

    [Fact]
    public void LargeSampleAgainstGaussianQuantileIsSmall()
    {
        var random = new Random(4);
        var a = Gaussian(random, 20_000, 2, 1.5);
        double w2 = Wasserstein1D.Distance(a, u => Normal.InvCDF(2, 1.5, u), 2.0);
        double shifted = Wasserstein1D.Distance(a, u => Normal.InvCDF(2.5, 1.5, u), 2.0);
        Assert.InRange(w2, 0, 0.03);
        Assert.Equal(0.5, shifted, 0.03);
    }

    [Fact]
    public void RejectsBadInput()
    {
        var ok = new[] { 1.0, 2.0 };
        Assert.Equal("a", Assert.Throws<ArgumentException>(() => Wasserstein1D.W1(Array.Empty<double>(), ok)).ParamName);
        Assert.Equal("b", Assert.Throws<ArgumentException>(() => Wasserstein1D.W2(ok, new[] { double.NaN })).ParamName);
        Assert.Equal("p", Assert.Throws<ArgumentOutOfRangeException>(() => Wasserstein1D.Distance(ok, ok, 0.5)).ParamName);
        Assert.Equal("sample", Assert.Throws<ArgumentException>(() => Wasserstein1D.Distance(new[] { double.PositiveInfinity }, u => u, 1)).ParamName);
        Assert.Equal("quantile", Assert.Throws<ArgumentException>(() => Wasserstein1D.Distance(ok, _ => double.NaN, 1)).ParamName);
        Assert.Equal("quantileB", Assert.Throws<ArgumentException>(() => Wasserstein1D.Distance(u => u, _ => double.NaN, 1)).ParamName);
        Assert.Equal("gridSize", Assert.Throws<ArgumentOutOfRangeException>(() => Wasserstein1D.Distance(u => u, u => u, 1, 1)).ParamName);
        Assert.Equal("upper", Assert.Throws<ArgumentException>(() => Wasserstein1D.W1FromCdfs(x => x, x => x, 1, 0)).ParamName);
        Assert.Equal("lower", Assert.Throws<ArgumentException>(() => Wasserstein1D.W1FromCdfs(x => x, x => x, double.NaN, 0)).ParamName);
        Assert.Equal("cdfB", Assert.Throws<ArgumentException>(() => Wasserstein1D.W1FromCdfs(x => x, _ => double.NaN, 0, 1)).ParamName);
        Assert.Equal("cdfA", Assert.Throws<ArgumentNullException>(() => Wasserstein1D.W1FromCdfs(null!, x => x, 0, 1)).ParamName);
    }
}
