using MLExtensions.Diffusion.Thermodynamics;

namespace MLExtensions.Diffusion.Tests.Thermodynamics;

public class LinearForceProcessTests
{
    private static readonly double[] Mu0 = [1.0, 0.5];
    private static readonly double[] S0 = [0.81, 0, 0, 0.81];

    [Theory]
    [InlineData(3.0)]
    [InlineData(5.0)]
    public void RotatingForceMakesKineticEnergyStrictlyExceedW2Speed(double g)
    {
        var p = LinearForceProcess.RotatingFromGaussian(g, Mu0, S0);
        var cov = new double[4];
        foreach (double t in new[] { 0.1, 0.4, 0.7, 0.9 })
        {
            var r = p.GaussianEntropyProductionRate(t);
            double v2 = p.GaussianWassersteinSpeed(t);
            Assert.True(r.KineticEnergy > v2 * v2 * (1 + 1e-3), $"t={t}: {r.KineticEnergy} vs {v2 * v2}");
            // Isotropic start stays isotropic; the rotation G J z carries kinetic energy G^2 tr S and moves no probability.
            p.Covariance(t, cov);
            double gg = g * (1 - t);
            Assert.Equal(cov[0], cov[3], 1e-12);
            Assert.Equal(0, cov[1], 1e-12);
            Assert.Equal(gg * gg * (cov[0] + cov[3]), r.KineticEnergy - v2 * v2, 1e-9 * r.KineticEnergy);
            Assert.Equal(r.Rate, r.SystemRate + r.BathRate, 1e-9 * Math.Abs(r.Rate));
        }
    }

    [Fact]
    public void WithoutRotationTheForceIsConservativeAndTheSpeedLimitIsAttained()
    {
        var p = LinearForceProcess.RotatingFromGaussian(0, Mu0, [0.5, 0.1, 0.1, 0.3]);
        foreach (double t in new[] { 0.05, 0.4, 0.7, 1.0 })
        {
            var r = p.GaussianEntropyProductionRate(t);
            double v2 = p.GaussianWassersteinSpeed(t);
            Assert.Equal(v2 * v2, r.KineticEnergy, 1e-10 * r.KineticEnergy);
        }
    }

    /// <summary>Antisymmetric part of the Jacobian of nu at x by central differences: zero iff nu is locally a gradient.</summary>
    private static double Curl(LinearForceProcess p, double[] x, double t)
    {
        double e = 1e-5;
        var v = new double[2];
        double Component(int i, int j, double shift)
        {
            var y = (double[])x.Clone();
            y[j] += shift;
            p.Velocity(y, t, v);
            return v[i];
        }
        double d01 = (Component(0, 1, e) - Component(0, 1, -e)) / (2 * e);
        double d10 = (Component(1, 0, e) - Component(1, 0, -e)) / (2 * e);
        return d10 - d01;
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(3.0)]
    public void VelocityIsAGradientFieldExactlyWithoutRotation(double g)
    {
        var gaussian = LinearForceProcess.RotatingFromGaussian(g, Mu0, [0.5, 0.1, 0.1, 0.3]);
        var mixture = LinearForceProcess.RotatingFromData(g, [1.0, 0.0, -0.5, 1.5, 0.2, -1.0]);
        foreach (var p in new[] { gaussian, mixture })
            foreach (double t in new[] { 0.3, 0.7 })
            {
                double curl = Curl(p, [0.4, -0.3], t);
                // For A = H I + G J the rotation contributes 2 G to the curl; the score part is always a gradient.
                Assert.Equal(2 * g * (1 - t), curl, 1e-6);
            }
    }

    [Fact]
    public void MeanFollowsTheClosedFormOfCommutingRotations()
    {
        double g = 3, h = 1.1, tFin = 0.5;
        var p = LinearForceProcess.RotatingFromGaussian(g, Mu0, S0, h, tFin);
        var mean = new double[2];
        foreach (double t in new[] { 0.3, 0.8, 1.0 })
        {
            // A_t = H I + G J commute, so Phi_t = exp(int H) R(int G).
            double intH = -h * (t - t * t / 2) - tFin * t * t * t / 3, intG = g * (t - t * t / 2);
            double scale = Math.Exp(intH), c = Math.Cos(intG), s = Math.Sin(intG);
            p.Mean(t, mean);
            Assert.Equal(scale * (c * Mu0[0] - s * Mu0[1]), mean[0], 1e-10);
            Assert.Equal(scale * (s * Mu0[0] + c * Mu0[1]), mean[1], 1e-10);
        }
    }

    [Fact]
    public void MonteCarloRateAgreesWithTheExactGaussianRate()
    {
        var p = LinearForceProcess.RotatingFromGaussian(5, Mu0, S0);
        double t = 0.6;
        var exact = p.GaussianEntropyProductionRate(t);
        var mc = p.MonteCarloEntropyProductionRate(t, 40000, new Random(4));
        Assert.True(Math.Abs(exact.KineticEnergy - mc.KineticEnergy) < 4 * mc.KineticEnergyStandardError, $"{exact.KineticEnergy} vs {mc.KineticEnergy} +- {mc.KineticEnergyStandardError}");
        Assert.True(Math.Abs(exact.SystemRate - mc.SystemRate) < 4 * mc.SystemRateStandardError, $"{exact.SystemRate} vs {mc.SystemRate} +- {mc.SystemRateStandardError}");
        Assert.True(Math.Abs(exact.BathRate - mc.BathRate) < 4 * mc.BathRateStandardError, $"{exact.BathRate} vs {mc.BathRate} +- {mc.BathRateStandardError}");
    }

    [Fact]
    public void DataStartScoreIsTheGradientOfTheLogDensityAndSamplesHaveTheMixtureMoments()
    {
        double[] data = [1.0, 0.0, -0.5, 1.5, 0.2, -1.0];
        var p = LinearForceProcess.RotatingFromData(3, data);
        Assert.Equal(3, p.ComponentCount);
        Assert.False(p.IsGaussianStart);
        double t = 0.5, e = 1e-5;
        double[] x = [0.3, -0.2];
        var score = new double[2];
        p.Score(x, t, score);
        var lp = new double[1];
        for (int i = 0; i < 2; i++)
        {
            double[] a = (double[])x.Clone(), b = (double[])x.Clone();
            a[i] += e; b[i] -= e;
            p.LogDensity(a, t, lp); double fa = lp[0];
            p.LogDensity(b, t, lp); double fb = lp[0];
            Assert.Equal((fa - fb) / (2 * e), score[i], 1e-6);
        }
        var samples = new double[2 * 40000];
        p.Sample(t, new Random(9), samples);
        var mean = new double[2];
        p.Mean(t, mean);
        Assert.Equal(mean[0], samples.Where((_, i) => i % 2 == 0).Average(), 0.01);
        Assert.Equal(mean[1], samples.Where((_, i) => i % 2 == 1).Average(), 0.01);
        Assert.Equal("t", Assert.Throws<ArgumentOutOfRangeException>(() => p.Score(x, 0, score)).ParamName);
        Assert.Throws<InvalidOperationException>(() => p.GaussianWassersteinSpeed(0.5));
    }

    [Fact]
    public void ProbabilityFlowOfTheRotatingProcessCarriesPTauBackToTheStart()
    {
        var p = LinearForceProcess.RotatingFromGaussian(3, Mu0, S0);
        int n = 20000;
        var x = new double[2 * n];
        p.Sample(1.0, new Random(2), x);
        var times = Enumerable.Range(0, 201).Select(i => 1.0 - i / 200.0).ToArray();
        int nfe = ProbabilityFlow.Integrate(p, x, times);
        Assert.Equal(399, nfe); // the last step ends at t = 0: Euler, no correction
        double m0 = x.Where((_, i) => i % 2 == 0).Average(), m1 = x.Where((_, i) => i % 2 == 1).Average();
        double v0 = x.Where((_, i) => i % 2 == 0).Select(v => (v - m0) * (v - m0)).Average();
        Assert.Equal(Mu0[0], m0, 0.03);
        Assert.Equal(Mu0[1], m1, 0.03);
        Assert.Equal(0.81, v0, 0.04);
    }

    [Fact]
    public void InvalidInputsNameTheArgument()
    {
        Assert.Equal("tau", Assert.Throws<ArgumentOutOfRangeException>(() => LinearForceProcess.RotatingFromGaussian(3, Mu0, S0, tau: 0)).ParamName);
        Assert.Equal("g", Assert.Throws<ArgumentOutOfRangeException>(() => LinearForceProcess.RotatingForce(double.NaN)).ParamName);
        Assert.Equal("mean", Assert.Throws<ArgumentException>(() => LinearForceProcess.RotatingFromGaussian(3, [1.0], [1.0])).ParamName);
        Assert.Equal("covariance", Assert.Throws<ArgumentException>(() => LinearForceProcess.RotatingFromGaussian(3, Mu0, [1.0, 0, 0, -1])).ParamName);
        Assert.Equal("covariance", Assert.Throws<ArgumentException>(() => LinearForceProcess.RotatingFromGaussian(3, Mu0, [1.0, 0.5, 0, 1])).ParamName);
        Assert.Equal("data", Assert.Throws<ArgumentException>(() => LinearForceProcess.RotatingFromData(3, [])).ParamName);
        Assert.Equal("data", Assert.Throws<ArgumentException>(() => LinearForceProcess.RotatingFromData(3, [1.0, double.NaN])).ParamName);
        var p = LinearForceProcess.RotatingFromGaussian(3, Mu0, S0);
        Assert.Equal("t", Assert.Throws<ArgumentOutOfRangeException>(() => p.GaussianEntropyProductionRate(1.5)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => p.Velocity(new double[3], 0.5, new double[3])).ParamName);
    }
}
