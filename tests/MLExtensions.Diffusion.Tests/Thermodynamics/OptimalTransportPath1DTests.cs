using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Thermodynamics;
using MLExtensions.Diffusion.Transport;

namespace MLExtensions.Diffusion.Tests.Thermodynamics;

public class OptimalTransportPath1DTests
{
    private static GaussianMixtureDenoiser Mixture() => GaussianMixtureDenoiser.Isotropic([0.3, 0.7], [-2.0, 1.5], [0.5, 0.8]);

    private static double MixtureCdf(double x) =>
        0.3 * MathNet.Numerics.Distributions.Normal.CDF(-2.0, 0.5, x) + 0.7 * MathNet.Numerics.Distributions.Normal.CDF(1.5, 0.8, x);

    private static double MixtureDensity(double x) =>
        0.3 * MathNet.Numerics.Distributions.Normal.PDF(-2.0, 0.5, x) + 0.7 * MathNet.Numerics.Distributions.Normal.PDF(1.5, 0.8, x);

    private static readonly double[] Levels = [1e-6, 0.01, 0.2, 0.3, 0.5, 0.77, 0.99, 1 - 1e-6];

    [Fact]
    public void QuantileInterpolatesDataAndNormalQuantiles()
    {
        const double tau = 2.0;
        var path = OptimalTransportPath1D.FromGaussianMixture(Mixture(), tau);
        foreach (double p in Levels)
        {
            double qData = path.Quantile(p, 0), z = MathNet.Numerics.Distributions.Normal.InvCDF(0, 1, p);
            Assert.Equal(p, MixtureCdf(qData), 1e-9 + 1e-9 * p);
            Assert.Equal(z, path.Quantile(p, tau), 1e-8);
            Assert.Equal(0.7 * qData + 0.3 * z, path.Quantile(p, 0.3 * tau), 1e-8);
            Assert.Equal(z, path.TransportMap(qData), 1e-7);
        }
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.25)]
    [InlineData(0.6)]
    [InlineData(1.0)]
    public void CdfDensityAndPreImageAreConsistent(double u)
    {
        var path = OptimalTransportPath1D.FromGaussianMixture(Mixture());
        foreach (double p in new[] { 0.01, 0.2, 0.5, 0.8, 0.99 })
        {
            double x = path.Quantile(p, u);
            Assert.Equal(p, path.Cdf(x, u), 1e-10);
            double x0 = path.PreImage(x, u);
            Assert.Equal(x, (1 - u) * x0 + u * path.TransportMap(x0), 1e-9);
            const double h = 1e-5;
            double fd = (path.Cdf(x + h, u) - path.Cdf(x - h, u)) / (2 * h);
            Assert.Equal(fd, path.Density(x, u), 1e-6 * (1 + fd));
        }
    }

    [Fact]
    public void VelocityIsTheTimeDerivativeOfTheQuantiles()
    {
        // d/dt Q_t(p) = nu_t(Q_t(p)): the quantiles move with the flow.
        const double tau = 1.3, h = 1e-5;
        var path = OptimalTransportPath1D.FromGaussianMixture(Mixture(), tau);
        var x = new double[1];
        var v = new double[1];
        foreach (double t in new[] { 0.2, 0.65, 1.1 })
            foreach (double p in new[] { 0.05, 0.4, 0.9 })
            {
                x[0] = path.Quantile(p, t);
                path.Velocity(x, t, v);
                double fd = (path.Quantile(p, t + h) - path.Quantile(p, t - h)) / (2 * h);
                Assert.Equal(fd, v[0], 1e-6);
            }
    }

    [Fact]
    public void KineticEnergyIsConstantAndEqualsSquaredW2OverTauSquared()
    {
        // integral nu_t^2 P_t dx by Simpson in x through the public Velocity and Density, against W2 from quantiles.
        const double tau = 0.8;
        var path = OptimalTransportPath1D.FromGaussianMixture(Mixture(), tau);
        double w2 = Wasserstein1D.Distance(p => path.Quantile(p, 0), p => path.Quantile(p, tau), 2, 4000);
        Assert.Equal(w2 * w2, path.SquaredDistanceToNoise, 1e-4 * w2 * w2);
        Assert.Equal(w2 * w2 / tau, path.KineticCost, 1e-4 * w2 * w2);
        foreach (double t in new[] { 0.1, 0.4, 0.75 })
        {
            double lo = path.Quantile(1e-12, t), hi = path.Quantile(1 - 1e-12, t);
            const int n = 4000;
            var x = new double[n + 1];
            var v = new double[n + 1];
            for (int i = 0; i <= n; i++) x[i] = lo + (hi - lo) * i / n;
            path.Velocity(x, t, v);
            double sum = 0;
            for (int i = 0; i <= n; i++) sum += (i == 0 || i == n ? 1 : i % 2 == 1 ? 4 : 2) * v[i] * v[i] * path.Density(x[i], t);
            double energy = sum * (hi - lo) / n / 3;
            Assert.Equal(w2 * w2 / (tau * tau), energy, 1e-3 * w2 * w2 / (tau * tau));
        }
    }

    [Fact]
    public void DelegateConstructorAgreesWithTheMixtureFactory()
    {
        var fromMixture = OptimalTransportPath1D.FromGaussianMixture(Mixture());
        var fromDelegates = new OptimalTransportPath1D(MixtureDensity, MixtureCdf,
            p => fromMixture.Quantile(p, 0));
        var x = new[] { -3.0, -1.0, 0.2, 2.5 };
        var v1 = new double[4];
        var v2 = new double[4];
        fromMixture.Velocity(x, 0.4, v1);
        fromDelegates.Velocity(x, 0.4, v2);
        for (int i = 0; i < 4; i++) Assert.Equal(v1[i], v2[i], 1e-7);
    }

    [Theory]
    [InlineData(0.3)]
    [InlineData(1.0)]
    [InlineData(2.0)]
    public void GaussianDataMatchesGaussianOtSchedule(double s0)
    {
        // For N(mu0, s0^2) the OT path is the Gaussian path of GaussianOtSchedule: same marginals, same velocity.
        const double mu0 = 0.8, tau = 1.5;
        var path = OptimalTransportPath1D.FromGaussian(mu0, s0, tau);
        var schedule = new GaussianOtSchedule(s0, tau);
        var field = new ScheduleVelocityField(schedule, GaussianDenoiser.Isotropic([mu0], s0));
        var x = new[] { -2.0, -0.3, 0.5, 1.7 };
        var vPath = new double[4];
        var vSchedule = new double[4];
        foreach (double t in new[] { 0.1, 0.7, 1.4 })
        {
            double m = schedule.M(t), sd = Math.Sqrt(m * m * s0 * s0 + schedule.Sigma(t) * schedule.Sigma(t));
            foreach (double p in new[] { 0.1, 0.5, 0.93 })
                Assert.Equal(m * mu0 + sd * MathNet.Numerics.Distributions.Normal.InvCDF(0, 1, p), path.Quantile(p, t), 1e-9);
            path.Velocity(x, t, vPath);
            field.Velocity(x, t, vSchedule);
            for (int i = 0; i < 4; i++) Assert.Equal(vSchedule[i], vPath[i], 1e-7);
        }
    }

    [Fact]
    public void InvalidInputsAreRejected()
    {
        var path = OptimalTransportPath1D.FromGaussianMixture(Mixture());
        Assert.Equal("tau", Assert.Throws<ArgumentOutOfRangeException>(() => OptimalTransportPath1D.FromGaussian(0, 1, -1)).ParamName);
        Assert.Equal("standardDeviation", Assert.Throws<ArgumentException>(() => OptimalTransportPath1D.FromGaussian(0, 0)).ParamName);
        Assert.Equal("data", Assert.Throws<ArgumentException>(() => OptimalTransportPath1D.FromGaussianMixture(GaussianMixtureDenoiser.Isotropic([1.0], [0.0, 0.0], [1.0]))).ParamName);
        Assert.Throws<ArgumentNullException>(() => new OptimalTransportPath1D(null!, MixtureCdf, p => p));
        Assert.Equal("t", Assert.Throws<ArgumentOutOfRangeException>(() => path.Quantile(0.5, 1.5)).ParamName);
        Assert.Equal("p", Assert.Throws<ArgumentOutOfRangeException>(() => path.Quantile(1.0, 0.5)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => path.Density(double.NaN, 0.5)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => path.Velocity([double.PositiveInfinity], 0.5, new double[1])).ParamName);
        Assert.Equal("velocity", Assert.Throws<ArgumentException>(() => path.Velocity([0.0, 1.0], 0.5, new double[1])).ParamName);
    }
}
