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

    [Fact]
    public void ScoreAndLogDensityMatchTheTanhClosedForm()
    {
        // SPEC section 7: grad ln P_t = [tanh(x . mu_t / Sigma_t) mu_t - x] / Sigma_t and
        // ln P_t = -|x|^2 / (2 Sigma_t) - |mu_t|^2 / (2 Sigma_t) - d/2 ln(2 pi Sigma_t) + ln cosh(x . mu_t / Sigma_t).
        double[] mu = [1.5, -0.5, 0.25];
        var mixture = new SymmetricGaussianMixtureOu(mu, 0.7);
        double[] x = [0.3, 0.8, -1.2, -2.0, 0.1, 0.4, 9.0, -3.0, 1.0];
        foreach (double t in new[] { 0.0, 0.2, 1.5 })
        {
            double sig = mixture.ComponentVariance(t), e = Math.Exp(-t);
            var score = new double[x.Length];
            var lp = new double[3];
            mixture.Score(x, t, score);
            mixture.LogDensity(x, t, lp);
            for (int r = 0; r < 3; r++)
            {
                double xm = 0, xx = 0;
                for (int j = 0; j < 3; j++)
                {
                    xm += x[3 * r + j] * mu[j] * e;
                    xx += x[3 * r + j] * x[3 * r + j];
                }
                double z = Math.Abs(xm / sig), logCosh = z + Math.Log(1 + Math.Exp(-2 * z)) - Math.Log(2);
                double expected = -0.5 * (xx + mixture.MuNormSquared * e * e) / sig - 1.5 * Math.Log(2 * Math.PI * sig) + logCosh;
                Assert.Equal(expected, lp[r], 10);
                for (int j = 0; j < 3; j++)
                    Assert.Equal((Math.Tanh(xm / sig) * mu[j] * e - x[3 * r + j]) / sig, score[3 * r + j], 10);
            }
        }
    }

    [Fact]
    public void SamplesHaveTheMomentsOfTheMarginal()
    {
        // E x_t = 0, E x_t x_t^T = mu_t mu_t^T + Sigma_t I.
        var mixture = new SymmetricGaussianMixtureOu([2.0, -1.0], 0.5);
        const double t = 0.7;
        const int n = 40000;
        var x = new double[2 * n];
        mixture.Sample(new Random(3), t, x);
        double e = Math.Exp(-t), sig = mixture.ComponentVariance(t);
        double m0 = 0, s00 = 0, s01 = 0, s11 = 0;
        for (int r = 0; r < n; r++)
        {
            m0 += x[2 * r];
            s00 += x[2 * r] * x[2 * r];
            s01 += x[2 * r] * x[2 * r + 1];
            s11 += x[2 * r + 1] * x[2 * r + 1];
        }
        Assert.Equal(0, m0 / n, 1);
        Assert.Equal(4 * e * e + sig, s00 / n, 1);
        Assert.Equal(-2 * e * e, s01 / n, 1);
        Assert.Equal(e * e + sig, s11 / n, 1);
    }
}
