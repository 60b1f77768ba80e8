using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Transport;

namespace MLExtensions.Diffusion.Tests.Transport;

public class SlicedWassersteinTests
{
    [Fact]
    public void IdenticalSetsGiveZero()
    {
        var random = new Random(1);
        var a = StandardNormal.Sample(random, 300 * 3);
        var shuffled = new double[a.Length];
        var order = Enumerable.Range(0, 300).OrderBy(_ => random.Next()).ToArray();
        for (int i = 0; i < 300; i++) Array.Copy(a, order[i] * 3, shuffled, i * 3, 3);
        Assert.Equal(0.0, SlicedWasserstein.W2Squared(a, shuffled, 3, 50, new Random(2)));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(5)]
    public void ShiftApproachesNormSquaredOverDimension(int d)
    {
        const int n = 2000, projections = 300;
        var random = new Random(10 + d);
        var a = StandardNormal.Sample(random, n * d);
        var b = StandardNormal.Sample(random, n * d);
        var mu = new double[d];
        for (int k = 0; k < d; k++) mu[k] = 1.0 + 0.5 * k;
        for (int i = 0; i < n; i++)
            for (int k = 0; k < d; k++) b[i * d + k] += mu[k];
        double norm2 = mu.Sum(v => v * v);
        double expected = norm2 / d;
        double estimate = SlicedWasserstein.W2Squared(a, b, d, projections, new Random(3));
        // Direction noise: Var(<theta, mu>^2) = |mu|^4 (3/(d(d+2)) - 1/d^2); plus the 1-D sampling error of two
        // n-point samples (about 2/n per projection and an O(1/sqrt(n)) cross term).
        double directionSe = norm2 * Math.Sqrt(3.0 / (d * (d + 2)) - 1.0 / (d * d)) / Math.Sqrt(projections);
        double samplingSe = 2.0 * Math.Sqrt(expected * 2.0 / n) + 4.0 / n;
        Assert.InRange(estimate, expected - 4 * (directionSe + samplingSe), expected + 4 * (directionSe + samplingSe));
        // Deterministic for a seeded source; W2 is the square root.
        Assert.Equal(Math.Sqrt(estimate), SlicedWasserstein.W2(a, b, d, projections, new Random(3)), 12);
    }

    [Fact]
    public void RejectsBadInput()
    {
        var ok = new double[] { 0, 1, 2, 3 };
        var r = new Random(1);
        Assert.Equal("a", Assert.Throws<ArgumentException>(() => SlicedWasserstein.W2(Array.Empty<double>(), ok, 2, 5, r)).ParamName);
        Assert.Equal("b", Assert.Throws<ArgumentException>(() => SlicedWasserstein.W2(ok, new double[] { 0, 1, 2 }, 2, 5, r)).ParamName);
        Assert.Equal("b", Assert.Throws<ArgumentException>(() => SlicedWasserstein.W2(ok, new[] { 0, double.NaN }, 2, 5, r)).ParamName);
        Assert.Equal("projections", Assert.Throws<ArgumentOutOfRangeException>(() => SlicedWasserstein.W2(ok, ok, 2, 0, r)).ParamName);
        Assert.Equal("dimension", Assert.Throws<ArgumentOutOfRangeException>(() => SlicedWasserstein.W2(ok, ok, 0, 3, r)).ParamName);
        Assert.Equal("random", Assert.Throws<ArgumentNullException>(() => SlicedWasserstein.W2(ok, ok, 2, 3, null!)).ParamName);
    }
}
