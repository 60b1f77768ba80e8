using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Thermodynamics;

namespace MLExtensions.Diffusion.Tests.Thermodynamics;

public class SampleOptimalTransportPathTests
{
    private static double[] GaussianData(int n, double mean, double std, int seed)
    {
        var x = StandardNormal.Sample(new Random(seed), n);
        for (int i = 0; i < n; i++) x[i] = mean + std * x[i];
        return x;
    }

    [Fact]
    public void OneDimensionalAssignmentIsMonotoneAndLinesHaveTheRightEnds()
    {
        double[] data = GaussianData(200, 1.0, 0.5, 1);
        var path = new SampleOptimalTransportPath(data, 1, new Random(2), tau: 2.0);
        // In 1-D the optimal assignment matches order statistics.
        for (int i = 0; i < data.Length; i++)
            for (int j = 0; j < data.Length; j++)
                if (data[i] < data[j]) Assert.True(path.NoisePoints[i] <= path.NoisePoints[j]);
        var start = new double[200];
        var end = new double[200];
        path.Positions(0, start);
        path.Positions(2.0, end);
        Assert.Equal(data, start);
        Assert.Equal(path.NoisePoints.ToArray(), end);
        // The noise points are the seeded draws, permuted.
        var draws = StandardNormal.Sample(new Random(2), 200);
        Array.Sort(draws);
        Array.Sort(end);
        Assert.Equal(draws, end);
        double msd = 0;
        for (int i = 0; i < 200; i++) msd += Math.Pow(path.NoisePoints[i] - data[i], 2);
        Assert.Equal(msd / 200, path.MeanSquaredDisplacement, 10);
    }

    [Fact]
    public void VelocityApproximatesTheExactOneDimensionalOtVelocity()
    {
        const double mean = 1.0, std = 0.5, tau = 1.0;
        var sample = new SampleOptimalTransportPath(GaussianData(800, mean, std, 3), 1, new Random(4), tau, bandwidth: 0.1);
        var exact = OptimalTransportPath1D.FromGaussian(mean, std, tau);
        foreach (double t in new[] { 0.2, 0.5, 0.8 })
        {
            var x = new double[5];
            for (int i = 0; i < 5; i++) x[i] = exact.Quantile(0.15 + 0.175 * i, t);
            var v1 = new double[5];
            var v2 = new double[5];
            sample.Velocity(x, t, v1);
            exact.Velocity(x, t, v2);
            for (int i = 0; i < 5; i++) Assert.True(Math.Abs(v1[i] - v2[i]) < 0.15, $"t = {t}, x = {x[i]}: {v1[i]} vs {v2[i]}");
        }
    }

    [Fact]
    public void VelocityApproximatesTheExactGaussianOtVelocityIn2D()
    {
        double[] mean = [1.0, -0.5];
        double[] cov = [0.5, 0.2, 0.2, 0.4];
        var chol = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.DenseOfRowMajor(2, 2, cov).Cholesky().Factor;
        const int n = 600;
        var data = StandardNormal.Sample(new Random(7), 2 * n);
        for (int r = 0; r < n; r++)
        {
            double z0 = data[2 * r], z1 = data[2 * r + 1];
            data[2 * r] = mean[0] + chol[0, 0] * z0;
            data[2 * r + 1] = mean[1] + chol[1, 0] * z0 + chol[1, 1] * z1;
        }
        var sample = new SampleOptimalTransportPath(data, 2, new Random(8), bandwidth: 0.2);
        var exact = new GaussianOptimalTransportPath(mean, cov);
        double t = 0.5;
        double[] m = exact.MarginalMean(t);
        double[] x = [m[0], m[1], m[0] + 0.3, m[1] - 0.2, m[0] - 0.3, m[1] + 0.1];
        var v1 = new double[6];
        var v2 = new double[6];
        sample.Velocity(x, t, v1);
        exact.Velocity(x, t, v2);
        for (int i = 0; i < 6; i++) Assert.True(Math.Abs(v1[i] - v2[i]) < 0.25, $"component {i}: {v1[i]} vs {v2[i]}");
    }

    [Fact]
    public void SeedFixesThePath()
    {
        double[] data = GaussianData(50, 0, 1, 9);
        var a = new SampleOptimalTransportPath(data, 1, new Random(10));
        var b = new SampleOptimalTransportPath(data, 1, new Random(10));
        Assert.Equal(a.NoisePoints.ToArray(), b.NoisePoints.ToArray());
        Assert.Equal(a.Bandwidth, b.Bandwidth);
        Assert.True(a.Bandwidth > 0);
    }

    [Fact]
    public void InvalidInputsAreRejected()
    {
        var random = new Random(1);
        Assert.Equal("dataRows", Assert.Throws<ArgumentException>(() => new SampleOptimalTransportPath([1.0], 1, random)).ParamName);
        Assert.Equal("dataRows", Assert.Throws<ArgumentException>(() => new SampleOptimalTransportPath([1.0, 2.0, 3.0], 2, random)).ParamName);
        Assert.Equal("dataRows", Assert.Throws<ArgumentException>(() => new SampleOptimalTransportPath([1.0, double.NaN], 1, random)).ParamName);
        Assert.Equal("tau", Assert.Throws<ArgumentOutOfRangeException>(() => new SampleOptimalTransportPath([1.0, 2.0], 1, random, tau: 0)).ParamName);
        Assert.Equal("bandwidth", Assert.Throws<ArgumentOutOfRangeException>(() => new SampleOptimalTransportPath([1.0, 2.0], 1, random, bandwidth: -1)).ParamName);
        Assert.Throws<ArgumentNullException>(() => new SampleOptimalTransportPath([1.0, 2.0], 1, null!));
        var path = new SampleOptimalTransportPath([1.0, 2.0], 1, random);
        Assert.Equal("t", Assert.Throws<ArgumentOutOfRangeException>(() => path.Velocity([0.0], 2.0, new double[1])).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => path.Velocity([double.NaN], 0.5, new double[1])).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => path.Positions(0.5, new double[3])).ParamName);
    }
}
