using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Thermodynamics;
using MLExtensions.Diffusion.Transport;

namespace MLExtensions.Diffusion.Tests.Thermodynamics;

public class WassersteinSpeedTests
{
    [Fact]
    public void GaussianPathSpeedMatchesFiniteDifferenceOfBuresDistance()
    {
        // A smooth path of full-covariance Gaussians: mu(t) = a + t b, S(t) = S0 + t S1 + t^2 S2 (positive definite on [0, 1]).
        double[] a = [0.3, -1.0], b = [1.2, 0.4];
        double[] s0 = [2.0, 0.6, 0.6, 1.0], s1 = [-0.5, 0.8, 0.8, 0.3], s2 = [0.4, -0.2, -0.2, 0.9];
        double[] Mean(double t) => [a[0] + t * b[0], a[1] + t * b[1]];
        double[] Cov(double t) => Enumerable.Range(0, 4).Select(i => s0[i] + t * s1[i] + t * t * s2[i]).ToArray();
        foreach (double t in new[] { 0.1, 0.5, 0.9 })
        {
            double[] sDot = Enumerable.Range(0, 4).Select(i => s1[i] + 2 * t * s2[i]).ToArray();
            double v = WassersteinSpeed.GaussianPath(Mean(t), b, Cov(t), sDot, 2);
            double h = 1e-4;
            double fd = GaussianWasserstein.W2(Mean(t - h), Cov(t - h), Mean(t + h), Cov(t + h), 2) / (2 * h);
            Assert.Equal(fd, v, 1e-6 * v);
        }
    }

    [Theory]
    [InlineData(0.2)]
    [InlineData(0.6)]
    public void GaussianDataSpeedMatchesFiniteDifferenceForFullCovariance(double t)
    {
        var schedule = new CosineSchedule();
        var data = GaussianDenoiser.Full([1.0, -2.0], new[,] { { 0.5, 0.2 }, { 0.2, 0.3 } });
        double v = WassersteinSpeed.Gaussian(schedule, data, t);
        double h = 1e-4;
        double fd = WassersteinSpeed.GaussianDistance(schedule, data, t - h, t + h) / (2 * h);
        Assert.Equal(fd, v, 1e-6 * v);
    }

    [Theory]
    [InlineData(0.05)]
    [InlineData(0.5)]
    [InlineData(0.95)]
    public void OneDimensionalQuantileSpeedEqualsKineticEnergyOfTheMixture(double u)
    {
        // In one dimension every field is a gradient: v2^2 = T Sdot. The quantile route never sees nu.
        var schedule = new CondOtSchedule();
        var mixture = GaussianMixtureDenoiser.Isotropic([0.3, 0.7], [-1.5, 1.0], [0.4, 0.3]);
        double t = u * schedule.MaxTime;
        double v = WassersteinSpeed.OneDimensional(schedule, mixture, t);
        double kinetic = EntropyProduction.Rate(schedule, mixture, t).KineticEnergy;
        Assert.Equal(kinetic, v * v, 1e-6 * kinetic);
    }

    [Fact]
    public void OneDimensionalSpeedAtTheEndsUsesOneSidedDifferences()
    {
        var schedule = new CondOtSchedule();
        var data = GaussianDenoiser.Isotropic([2.0], 0.5);
        foreach (double t in new[] { 0.0, schedule.MaxTime })
            Assert.Equal(WassersteinSpeed.Gaussian(schedule, data, t), WassersteinSpeed.OneDimensional(schedule, data, t), 1e-6);
    }

    [Fact]
    public void SampleBasedSpeedWithAMonotoneCouplingIsConsistent()
    {
        var schedule = new CosineSchedule();
        double[] mu0 = [1.0, -0.5];
        double s0 = 0.6, t = 0.4, dt = 1e-3;
        var data = GaussianDenoiser.Isotropic(mu0, s0);
        int n = 400;
        var z = StandardNormal.Sample(new Random(3), 2 * n);
        double[] At(double time)
        {
            double m = schedule.M(time), std = Math.Sqrt(m * m * s0 * s0 + schedule.Sigma(time) * schedule.Sigma(time));
            return z.Select((v, i) => m * mu0[i % 2] + std * v).ToArray();
        }
        double exact = WassersteinSpeed.Gaussian(schedule, data, t + dt / 2);
        // The common scaling map is the optimal coupling; the estimate carries only the sampling error of E|z|^2.
        Assert.Equal(exact, WassersteinSpeed.FromSamples(At(t), At(t + dt), 2, dt), 0.05 * exact);
        var x1 = At(t).Where((_, i) => i % 2 == 0).ToArray();
        var x2 = At(t + dt).Where((_, i) => i % 2 == 0).ToArray();
        double exact1 = WassersteinSpeed.Gaussian(schedule, GaussianDenoiser.Isotropic([mu0[0]], s0), t + dt / 2);
        Assert.Equal(exact1, WassersteinSpeed.FromSamples(x1, x2, 1, dt), 0.05 * exact1);
    }

    [Fact]
    public void OtScheduleIsTheGeodesicAndHasEfficiencyOne()
    {
        double mu0 = 2.0, s0 = 0.5;
        var data = GaussianDenoiser.Isotropic([mu0], s0);
        var ot = new GaussianOtSchedule(s0);
        var c2 = EntropyProduction.Integrate(ot, data);
        double w2 = WassersteinSpeed.GaussianDistance(ot, data, c2.LowerTime, c2.UpperTime);
        double duration = c2.UpperTime - c2.LowerTime;
        double efficiency = WassersteinSpeed.Efficiency(w2, duration, c2.KineticCost);
        Assert.Equal(1.0, efficiency, 1e-3);
        double length = WassersteinSpeed.PathLength(t => WassersteinSpeed.Gaussian(ot, data, t), c2.LowerTime, c2.UpperTime);
        Assert.Equal(w2, length, 1e-6);

        foreach (NoiseSchedule other in new NoiseSchedule[] { new CosineSchedule(), new CondOtSchedule() })
        {
            var c = EntropyProduction.Integrate(other, data);
            double w = WassersteinSpeed.GaussianDistance(other, data, c.LowerTime, c.UpperTime);
            double e = WassersteinSpeed.Efficiency(w, c.UpperTime - c.LowerTime, c.KineticCost);
            Assert.InRange(e, 0.05, 0.999);
            double l = WassersteinSpeed.PathLength(t => WassersteinSpeed.Gaussian(other, data, t), c.LowerTime, c.UpperTime);
            // Global speed limit: c2 >= L^2 / tau >= W2^2 / tau.
            Assert.True(c.KineticCost >= l * l / (c.UpperTime - c.LowerTime) * (1 - 1e-9));
            Assert.True(l > w * (1 + 1e-6));
        }
    }

    [Fact]
    public void OneDimensionalDistanceMatchesBures()
    {
        var schedule = new CosineSchedule();
        var data = GaussianDenoiser.Isotropic([2.0], 0.5);
        Assert.Equal(WassersteinSpeed.GaussianDistance(schedule, data, 0, 0.7), WassersteinSpeed.OneDimensionalDistance(schedule, data, 0, 0.7), 1e-4);
    }

    [Fact]
    public void InvalidInputsNameTheArgument()
    {
        var schedule = new CosineSchedule();
        var data = GaussianDenoiser.Isotropic([0.0], 1.0);
        Assert.Equal("duration", Assert.Throws<ArgumentOutOfRangeException>(() => WassersteinSpeed.Efficiency(1, 0, 1)).ParamName);
        Assert.Equal("kineticCost", Assert.Throws<ArgumentOutOfRangeException>(() => WassersteinSpeed.Efficiency(1, 1, double.NaN)).ParamName);
        Assert.Equal("distance", Assert.Throws<ArgumentOutOfRangeException>(() => WassersteinSpeed.Efficiency(-1, 1, 1)).ParamName);
        Assert.Equal("t", Assert.Throws<ArgumentOutOfRangeException>(() => WassersteinSpeed.Gaussian(schedule, data, 2)).ParamName);
        Assert.Equal("t", Assert.Throws<ArgumentOutOfRangeException>(() => WassersteinSpeed.OneDimensional(schedule, data, double.NaN)).ParamName);
        Assert.Equal("dt", Assert.Throws<ArgumentOutOfRangeException>(() => WassersteinSpeed.FromSamples([1.0], [2.0], 1, 0)).ParamName);
        Assert.Equal("covariance", Assert.Throws<ArgumentException>(() => WassersteinSpeed.GaussianPath([0.0], [0.0], [-1.0], [0.0], 1)).ParamName);
        Assert.Equal("covarianceDot", Assert.Throws<ArgumentException>(() => WassersteinSpeed.GaussianPath([0.0, 0], [0.0, 0], [1.0, 0, 0, 1], [0.0, 1, 0, 0], 2)).ParamName);
        Assert.Equal("tStart", Assert.Throws<ArgumentOutOfRangeException>(() => WassersteinSpeed.PathLength(_ => 1, 1, 1)).ParamName);
        Assert.Equal("speed", Assert.Throws<ArgumentException>(() => WassersteinSpeed.PathLength(_ => -1, 0, 1)).ParamName);
    }
}
