using MLExtensions.Diffusion.Thermodynamics;

namespace MLExtensions.Diffusion.Tests.Thermodynamics;

public class SymmetricGaussianMixtureOuTests
{
    [Fact]
    public void ScoreIsTheGradientOfTheLogDensity()
    {
        var mixture = new SymmetricGaussianMixtureOu([1.5, -0.5], 0.7);
        double[] x = [0.3, 0.8, -1.2, 0.1];
        const double t = 0.4, h = 1e-5;
        var score = new double[4];
        mixture.Score(x, t, score);
        var lp = new double[2];
        for (int r = 0; r < 2; r++)
            for (int j = 0; j < 2; j++)
            {
                double[] plus = x.Skip(2 * r).Take(2).ToArray(), minus = (double[])plus.Clone();
                plus[j] += h;
                minus[j] -= h;
                mixture.LogDensity(plus.Concat(minus).ToArray(), t, lp);
                Assert.Equal((lp[0] - lp[1]) / (2 * h), score[2 * r + j], 6);
            }
    }

    [Fact]
    public void LogDensityIntegratesToOneAndMatchesTheComponentSum()
    {
        var mixture = new SymmetricGaussianMixtureOu([2.0], 0.5);
        const double t = 0.3, h = 0.001;
        var grid = Enumerable.Range(0, 16001).Select(i => -8 + i * h).ToArray();
        var lp = new double[grid.Length];
        mixture.LogDensity(grid, t, lp);
        Assert.Equal(1.0, lp.Sum(Math.Exp) * h, 6);
        double sig = mixture.ComponentVariance(t), mt = 2 * Math.Exp(-t);
        double x = 0.77;
        double direct = 0.5 * (Math.Exp(-(x - mt) * (x - mt) / (2 * sig)) + Math.Exp(-(x + mt) * (x + mt) / (2 * sig))) / Math.Sqrt(2 * Math.PI * sig);
        var one = new double[1];
        mixture.LogDensity([x], t, one);
        Assert.Equal(Math.Log(direct), one[0], 12);
    }

    [Fact]
    public void EntropyPerDimensionMatchesGaussianAndSeparatedLimits()
    {
        // mu = 0: P_t = N(0, Sigma_t I).
        var gaussian = new SymmetricGaussianMixtureOu([0.0, 0.0], 0.6);
        double sig = gaussian.ComponentVariance(0.5);
        Assert.Equal(0.5 * Math.Log(2 * Math.PI * Math.E * sig), gaussian.EntropyPerDimension(0.5), 9);
        // far-apart components: ln 2 + Gaussian entropy of one component.
        var separated = new SymmetricGaussianMixtureOu([30.0], 1.0);
        Assert.Equal(Math.Log(2) + 0.5 * Math.Log(2 * Math.PI * Math.E), separated.EntropyPerDimension(0), 9);
    }
}
