using MathNet.Numerics.LinearAlgebra;
using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Transport;

namespace MLExtensions.Diffusion.Tests.Transport;

public class GaussianWassersteinTests
{
    private static double[] RandomSpd(Random random, int d, double ridge = 0.2)
    {
        var g = StandardNormal.Sample(random, d * d);
        var s = new double[d * d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
            {
                double acc = 0;
                for (int k = 0; k < d; k++) acc += g[i * d + k] * g[j * d + k];
                s[i * d + j] = acc / d + (i == j ? ridge : 0);
            }
        return s;
    }

    private static Matrix<double> M(double[] rowMajor, int d) => Matrix<double>.Build.Dense(d, d, (i, j) => rowMajor[i * d + j]);

    [Fact]
    public void OneDimensionalCaseMatchesScalarFormula()
    {
        double full = GaussianWasserstein.W2(new[] { 0.3 }, new[] { 4.0 }, new[] { -1.2 }, new[] { 0.25 }, 1);
        Assert.Equal(Math.Sqrt(1.5 * 1.5 + 1.5 * 1.5), full, 12);
        Assert.Equal(GaussianWasserstein.W2(0.3, 2.0, -1.2, 0.5), full, 12);
    }

    [Fact]
    public void CommutingCovariancesMatchClosedForm()
    {
        // S1 = Q diag(l1) Q^T, S2 = Q diag(l2) Q^T commute: W2^2 = |dmu|^2 + sum (sqrt l1 - sqrt l2)^2.
        const int d = 4;
        var random = new Random(5);
        var q = Matrix<double>.Build.Dense(d, d, (i, j) => random.NextDouble() - 0.5).QR().Q;
        var l1 = new[] { 0.5, 1.0, 2.0, 4.0 };
        var l2 = new[] { 3.0, 0.1, 2.0, 0.0 }; // one zero eigenvalue: semi-definite target is allowed
        var s1 = q * Matrix<double>.Build.DenseOfDiagonalArray(l1) * q.Transpose();
        var s2 = q * Matrix<double>.Build.DenseOfDiagonalArray(l2) * q.Transpose();
        var mu1 = new[] { 1.0, 0, 0, 2 };
        var mu2 = new[] { 0.0, 1, 0, 2 };
        double expected = 2 + l1.Zip(l2, (a, b) => (Math.Sqrt(a) - Math.Sqrt(b)) * (Math.Sqrt(a) - Math.Sqrt(b))).Sum();
        double actual = GaussianWasserstein.W2Squared(mu1, ToRowMajor(s1), mu2, ToRowMajor(s2), d);
        // The zero eigenvalue of S2 is only zero to rounding (1e-16), and its square root to 1e-8.
        Assert.Equal(expected, actual, 1e-7);
        // Diagonal case.
        Assert.Equal(expected, GaussianWasserstein.W2Squared(mu1, ToRowMajor(Matrix<double>.Build.DenseOfDiagonalArray(l1)),
            mu2, ToRowMajor(Matrix<double>.Build.DenseOfDiagonalArray(l2)), d), 12);
    }

    private static double[] ToRowMajor(Matrix<double> m)
    {
        var r = new double[m.RowCount * m.ColumnCount];
        for (int i = 0; i < m.RowCount; i++)
            for (int j = 0; j < m.ColumnCount; j++)
                r[i * m.ColumnCount + j] = 0.5 * (m[i, j] + m[j, i]);
        return r;
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(3, 2)]
    [InlineData(5, 3)]
    public void BuresMapPushesSourceToTargetAndRealisesW2(int d, int seed)
    {
        var random = new Random(seed);
        var s1 = RandomSpd(random, d);
        var s2 = RandomSpd(random, d);
        var mu1 = StandardNormal.Sample(random, d);
        var mu2 = StandardNormal.Sample(random, d);
        var map = GaussianWasserstein.OptimalMap(mu1, s1, mu2, s2, d);
        var a = M(map.LinearPart.ToArray(), d);
        // Symmetric positive definite.
        Assert.True((a - a.Transpose()).FrobeniusNorm() < 1e-12 * a.FrobeniusNorm());
        Assert.True(a.Evd(Symmetricity.Symmetric).EigenValues.All(e => e.Real > 0));
        // A S1 A^T = S2.
        var pushed = a * M(s1, d) * a.Transpose();
        Assert.True((pushed - M(s2, d)).FrobeniusNorm() < 1e-9 * M(s2, d).FrobeniusNorm());
        // The cost of the map equals the Bures distance: E|T(x) - x|^2 = |dmu|^2 + tr((A - I) S1 (A - I)^T).
        var ai = a - Matrix<double>.Build.DenseIdentity(d);
        double dmu2 = mu1.Zip(mu2, (u, v) => (u - v) * (u - v)).Sum();
        double mapCost = dmu2 + (ai * M(s1, d) * ai.Transpose()).Trace();
        Assert.Equal(mapCost, GaussianWasserstein.W2Squared(mu1, s1, mu2, s2, d), 9);
        // Apply: the source mean goes to the target mean; a batch of two rows.
        var batch = new double[2 * d];
        mu1.CopyTo(batch, 0);
        for (int k = 0; k < d; k++) batch[d + k] = mu1[k] + (k == 0 ? 1 : 0);
        var output = new double[2 * d];
        map.Apply(batch, output);
        for (int k = 0; k < d; k++)
        {
            Assert.Equal(mu2[k], output[k], 12);
            Assert.Equal(mu2[k] + a[k, 0], output[d + k], 12);
        }
    }

    [Fact]
    public void DistanceIsSymmetricAndZeroOnItself()
    {
        var random = new Random(9);
        var s1 = RandomSpd(random, 3);
        var s2 = RandomSpd(random, 3);
        var mu = new[] { 1.0, 2, 3 };
        var nu = new[] { 0.0, -1, 3 };
        Assert.Equal(0.0, GaussianWasserstein.W2(mu, s1, mu, s1, 3), 6);
        Assert.Equal(GaussianWasserstein.W2Squared(mu, s1, nu, s2, 3), GaussianWasserstein.W2Squared(nu, s2, mu, s1, 3), 9);
    }

    [Fact]
    public void RejectsBadInput()
    {
        var mu = new[] { 0.0, 0 };
        var id = new[] { 1.0, 0, 0, 1 };
        var asymmetric = new[] { 1.0, 0.5, 0, 1 };
        var indefinite = new[] { 1.0, 2, 2, 1 };
        var singular = new[] { 1.0, 1, 1, 1 };
        Assert.Equal("covariance1", Assert.Throws<ArgumentException>(() => GaussianWasserstein.W2(mu, asymmetric, mu, id, 2)).ParamName);
        Assert.Equal("covariance2", Assert.Throws<ArgumentException>(() => GaussianWasserstein.W2(mu, id, mu, indefinite, 2)).ParamName);
        Assert.Equal("covariance2", Assert.Throws<ArgumentException>(() => GaussianWasserstein.W2(mu, id, mu, new double[3], 2)).ParamName);
        Assert.Equal("mean2", Assert.Throws<ArgumentException>(() => GaussianWasserstein.W2(mu, id, new[] { 0.0 }, id, 2)).ParamName);
        Assert.Equal("mean1", Assert.Throws<ArgumentException>(() => GaussianWasserstein.W2(new[] { double.NaN, 0 }, id, mu, id, 2)).ParamName);
        Assert.Equal("covariance1", Assert.Throws<ArgumentException>(() => GaussianWasserstein.W2(mu, new[] { 1, double.NaN, double.NaN, 1 }, mu, id, 2)).ParamName);
        Assert.Equal("dimension", Assert.Throws<ArgumentOutOfRangeException>(() => GaussianWasserstein.W2(mu, id, mu, id, 0)).ParamName);
        // The map needs an invertible source covariance.
        Assert.Equal("covariance1", Assert.Throws<ArgumentException>(() => GaussianWasserstein.OptimalMap(mu, singular, mu, id, 2)).ParamName);
        Assert.Equal("standardDeviation2", Assert.Throws<ArgumentOutOfRangeException>(() => GaussianWasserstein.W2(0, 1, 0, -1)).ParamName);
        var map = GaussianWasserstein.OptimalMap(mu, id, mu, id, 2);
        Assert.Equal("source", Assert.Throws<ArgumentException>(() => map.Apply(new double[3], new double[3])).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => map.Apply(new double[4], new double[2])).ParamName);
    }
}
