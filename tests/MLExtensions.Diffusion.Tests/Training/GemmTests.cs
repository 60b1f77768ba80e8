using MLExtensions.Diffusion.Training;

namespace MLExtensions.Diffusion.Tests.Training;

public class GemmTests
{
    private static float[] RandomArray(Random rng, int length)
    {
        var x = new float[length];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(2 * rng.NextDouble() - 1);
        return x;
    }

    /// <summary>Double-precision triple loop on the stored layouts.</summary>
    private static double[] Naive(bool ta, bool tb, int m, int n, int k, double alpha, float[] a, float[] b, double beta, float[] c)
    {
        var r = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++)
                    s += (double)(ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
                r[i * n + j] = alpha * s + beta * c[i * n + j];
            }
        return r;
    }

    public static TheoryData<int, int, int> Sizes() => new()
    {
        { 1, 1, 1 }, { 3, 1, 17 }, { 17, 33, 3 }, { 33, 17, 257 }, { 257, 33, 300 }, { 9, 65, 1 }, { 100, 130, 520 }, { 1, 257, 33 },
    };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void MatchesNaiveForEveryTransposeAndKernel(int m, int n, int k)
    {
        var rng = new Random(m * 1000 + n * 10 + k);
        var a = RandomArray(rng, m * k);
        var b = RandomArray(rng, k * n);
        var c0 = RandomArray(rng, m * n);
        var zero = new float[m * n];
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
            {
                var product = Naive(ta, tb, m, n, k, 1, a, b, 0, zero);
                foreach (var kind in new[] { GemmKernelKind.Auto, GemmKernelKind.Vector512, GemmKernelKind.Vector256, GemmKernelKind.Vector128, GemmKernelKind.Scalar })
                    foreach (var (alpha, beta) in new[] { (1f, 0f), (0.5f, 1f), (-2f, 0.25f) })
                    {
                        var c = (float[])c0.Clone();
                        Gemm.Multiply(ta, tb, m, n, k, alpha, a, b, beta, c, threads: 2, kind);
                        var expected = product.Select((v, i) => alpha * v + beta * (double)c0[i]).ToArray();
                        double tol = 1e-5 * Math.Sqrt(k) * 4 + 1e-6;
                        for (int i = 0; i < c.Length; i++)
                            Assert.True(Math.Abs(c[i] - expected[i]) <= tol * (1 + Math.Abs(expected[i])),
                                $"{kind} ta={ta} tb={tb} alpha={alpha} beta={beta} at {i}: {c[i]} vs {expected[i]}");
                    }
            }
    }

    [Fact]
    public void BetaZeroIgnoresNaNInDestination()
    {
        var a = new float[] { 1, 2 };
        var b = new float[] { 3, 4 };
        var c = new float[] { float.NaN };
        Gemm.Multiply(false, false, 1, 1, 2, 1f, a, b, 0f, c);
        Assert.Equal(11f, c[0]);
    }

    [Fact]
    public void ResultIsIdenticalForAnyThreadCount()
    {
        var rng = new Random(5);
        int m = 300, n = 200, k = 600;
        var a = RandomArray(rng, m * k);
        var b = RandomArray(rng, k * n);
        var c1 = new float[m * n];
        var c2 = new float[m * n];
        var c3 = new float[m * n];
        Gemm.Multiply(false, true, m, n, k, 1f, a, b, 0f, c1, threads: 1);
        Gemm.Multiply(false, true, m, n, k, 1f, a, b, 0f, c2, threads: 2);
        Gemm.Multiply(false, true, m, n, k, 1f, a, b, 0f, c3, threads: 3);
        Assert.Equal(c1, c2);
        Assert.Equal(c1, c3);
    }

    // Several (NC, KC) blocks of B (n > 512, k > 256), so the B panels that the threads pack together and share span
    // more than one block; every transpose, and beta 0 (C overwritten by the first k block) as well as beta 1.
    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void SharedPackedPanelsGiveTheSameBitsForAnyThreadCount(bool ta, bool tb)
    {
        var rng = new Random(7);
        int m = 700, n = 530, k = 300;
        var a = RandomArray(rng, m * k);
        var b = RandomArray(rng, k * n);
        var c0 = RandomArray(rng, m * n);
        foreach (float beta in new[] { 0f, 1f })
        {
            float[] Product(int threads)
            {
                var c = (float[])c0.Clone();
                Gemm.Multiply(ta, tb, m, n, k, 0.75f, a, b, beta, c, threads);
                return c;
            }
            var one = Product(1);
            Assert.Equal(one, Product(2));
            Assert.Equal(one, Product(3));
        }
    }

    [Fact]
    public void RejectsMisSizedSpans()
    {
        var a = new float[6];
        var b = new float[6];
        var c = new float[4];
        var ex = Assert.Throws<ArgumentException>(() => Gemm.Multiply(false, false, 2, 2, 3, 1f, a.AsSpan(0, 5), b, 0f, c));
        Assert.Equal("a", ex.ParamName);
        ex = Assert.Throws<ArgumentException>(() => Gemm.Multiply(false, false, 2, 2, 3, 1f, a, b, 0f, new float[5]));
        Assert.Equal("c", ex.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Multiply(false, false, -1, 2, 3, 1f, a, b, 0f, c));
    }
}
