using MLExtensions.Diffusion.Search;

namespace MLExtensions.Diffusion.Tests.Search;

public class GaussianProcessSearchTests
{
    private static readonly double[] LengthScales = [0.02, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6];
    private static readonly double[] Noises = [1e-6, 1e-4, 1e-2, 1e-1];

    private static (double[][] X, double[] Y) Sample(Func<double, double> f, int n)
    {
        var x = Enumerable.Range(0, n).Select(i => new[] { (i + 0.5) / n }).ToArray();
        var y = x.Select(p => f(p[0])).ToArray();
        double mean = y.Average(), std = Math.Sqrt(y.Select(v => (v - mean) * (v - mean)).Average());
        return (x, y.Select(v => (v - mean) / std).ToArray());
    }

    [Theory]
    [InlineData(GaussianProcessKernel.Matern52)]
    [InlineData(GaussianProcessKernel.SquaredExponential)]
    public void MarginalLikelihoodPicksALongerLengthScaleForASmootherFunction(GaussianProcessKernel kernel)
    {
        var (xs, ys) = Sample(x => Math.Sin(2 * Math.PI * x), 30);
        var (xr, yr) = Sample(x => Math.Sin(16 * Math.PI * x), 30);
        var smooth = GaussianProcess.Fit(kernel, xs, ys, LengthScales, Noises)!;
        var rough = GaussianProcess.Fit(kernel, xr, yr, LengthScales, Noises)!;
        Assert.True(smooth.LengthScale > rough.LengthScale, $"smooth {smooth.LengthScale}, rough {rough.LengthScale}");
    }

    [Fact]
    public void TheChosenHyperParametersMaximiseTheLikelihoodOverTheGrid()
    {
        var (x, y) = Sample(x => Math.Exp(-3 * x) * Math.Cos(7 * x), 15);
        var best = GaussianProcess.Fit(GaussianProcessKernel.Matern52, x, y, LengthScales, Noises)!;
        foreach (double ell in LengthScales)
            foreach (double g in Noises)
            {
                var single = GaussianProcess.Fit(GaussianProcessKernel.Matern52, x, y, [ell], [g]);
                if (single is not null) Assert.True(single.LogMarginalLikelihood <= best.LogMarginalLikelihood + 1e-9);
            }
        Assert.Contains(best.LengthScale, LengthScales);
        Assert.Contains(best.Noise, Noises);
    }

    [Fact]
    public void PosteriorInterpolatesNoiseFreeDataAndIsUncertainFarFromIt()
    {
        double[][] x = [[0.1, 0.1], [0.2, 0.15], [0.15, 0.25], [0.3, 0.2]];
        double[] y = [0.5, -1.0, 1.2, -0.7];
        var gp = GaussianProcess.Fit(GaussianProcessKernel.Matern52, x, y, [0.2], [1e-8])!;
        var scratch = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            var (mean, sd) = gp.Predict(x[i], scratch);
            Assert.Equal(y[i], mean, 4);
            Assert.True(sd < 1e-2 * Math.Sqrt(gp.SignalVariance), $"sd {sd}");
        }
        var (farMean, farSd) = gp.Predict([0.95, 0.95], scratch);
        Assert.True(Math.Abs(farMean) < 0.01, $"far mean {farMean}"); // reverts to the prior mean 0 (data values are O(1))
        Assert.Equal(1, farSd / Math.Sqrt(gp.SignalVariance), 3); // and to the prior standard deviation
    }

    [Fact]
    public void RepeatedPointsWithoutNoiseAreSkippedNotFatal()
    {
        double[][] x = [[0.5], [0.5], [0.5]];
        double[] y = [1, -1, 0];
        // All-ones correlation plus a negligible nugget is not positive definite: no fit.
        Assert.Null(GaussianProcess.Fit(GaussianProcessKernel.Matern52, x, y, [0.3], [1e-20]));
        // With a usable noise level in the grid that one is chosen, and the mean at the point is the average.
        var gp = GaussianProcess.Fit(GaussianProcessKernel.Matern52, x, y, [0.3], [1e-20, 1e-1])!;
        Assert.Equal(1e-1, gp.Noise);
        Assert.Equal(0, gp.Predict([0.5], new double[3]).Mean, 9);
    }
}
