using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Thermodynamics;
using MLExtensions.Diffusion.Transport;

namespace MLExtensions.Diffusion.Tests.Thermodynamics;

public class GaussianOptimalTransportPathTests
{
    private static readonly double[] Mean = [0.5, -1.0];
    private static readonly double[] Covariance = [2.0, 0.6, 0.6, 0.5];

    [Fact]
    public void IsotropicDataAgreesWithGaussianOtSchedule()
    {
        const double s0 = 0.6, tau = 2.0;
        double[] mu = [0.4, -0.7, 1.2];
        var cov = new double[9];
        for (int i = 0; i < 3; i++) cov[i * 4] = s0 * s0;
        var path = new GaussianOptimalTransportPath(mu, cov, tau);
        var schedule = new GaussianOtSchedule(s0, tau);
        var field = new ScheduleVelocityField(schedule, GaussianDenoiser.Isotropic(mu, s0));
        double[] x = [0.1, 0.2, -0.3, 1.5, -2.0, 0.7];
        var v1 = new double[6];
        var v2 = new double[6];
        foreach (double t in new[] { 0.05, 0.8, 1.9 })
        {
            double m = schedule.M(t), s2 = m * m * s0 * s0 + schedule.Sigma(t) * schedule.Sigma(t);
            double[] mean = path.MarginalMean(t), c = path.MarginalCovariance(t);
            for (int i = 0; i < 3; i++)
            {
                Assert.Equal(m * mu[i], mean[i], 12);
                for (int j = 0; j < 3; j++) Assert.Equal(i == j ? s2 : 0, c[i * 3 + j], 10);
            }
            path.Velocity(x, t, v1);
            field.Velocity(x, t, v2);
            for (int i = 0; i < 6; i++) Assert.Equal(v2[i], v1[i], 8);
        }
    }

    [Fact]
    public void EndMarginalsAreTheDataAndTheNoise()
    {
        var path = new GaussianOptimalTransportPath(Mean, Covariance, 1.5);
        double[] c0 = path.MarginalCovariance(0), c1 = path.MarginalCovariance(1.5);
        for (int k = 0; k < 4; k++)
        {
            Assert.Equal(Covariance[k], c0[k], 10);
            Assert.Equal(k == 0 || k == 3 ? 1.0 : 0.0, c1[k], 10);
        }
        Assert.All(path.MarginalMean(1.5), m => Assert.Equal(0.0, m, 14));
    }

    [Fact]
    public void ParticlesMoveOnStraightLinesAtConstantSpeed()
    {
        // x_t = (1 - u) x0 + u A (x0 - mu): the velocity at x_t is (A (x0 - mu) - x0) / tau at every t.
        const double tau = 1.5;
        var path = new GaussianOptimalTransportPath(Mean, Covariance, tau);
        var a = path.TransportMatrix;
        double[] x0 = [1.3, -0.2];
        double[] target = new double[2];
        for (int i = 0; i < 2; i++) target[i] = a[i * 2] * (x0[0] - Mean[0]) + a[i * 2 + 1] * (x0[1] - Mean[1]);
        var xt = new double[2];
        var v = new double[2];
        foreach (double t in new[] { 0.0, 0.4, 1.1, 1.5 })
        {
            double u = t / tau;
            for (int i = 0; i < 2; i++) xt[i] = (1 - u) * x0[i] + u * target[i];
            path.Velocity(xt, t, v);
            for (int i = 0; i < 2; i++) Assert.Equal((target[i] - x0[i]) / tau, v[i], 10);
        }
        // A pushes N(mu, C) to N(0, I): A C A = I.
        double[] aca = new double[4];
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++)
                for (int k = 0; k < 2; k++)
                    for (int l = 0; l < 2; l++) aca[i * 2 + j] += a[i * 2 + k] * Covariance[k * 2 + l] * a[l * 2 + j];
        Assert.Equal(1.0, aca[0], 10);
        Assert.Equal(0.0, aca[1], 10);
        Assert.Equal(1.0, aca[3], 10);
    }

    [Fact]
    public void KineticCostIsSquaredBuresDistanceOverTau()
    {
        const double tau = 0.7;
        var path = new GaussianOptimalTransportPath(Mean, Covariance, tau);
        double w2 = GaussianWasserstein.W2Squared(Mean, Covariance, [0.0, 0.0], [1.0, 0.0, 0.0, 1.0], 2);
        Assert.Equal(w2, path.SquaredDistanceToNoise, 10);
        Assert.Equal(w2 / tau, path.KineticCost, 10);
        // E|nu_t|^2 under P_t by Monte Carlo agrees (loose tolerance).
        var random = new Random(5);
        const int n = 20000;
        double t = 0.3, u = t / tau;
        double[] mean = path.MarginalMean(t), cov = path.MarginalCovariance(t);
        var chol = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.DenseOfRowMajor(2, 2, cov).Cholesky().Factor;
        var x = new double[2 * n];
        MLExtensions.Diffusion.Randomness.StandardNormal.Fill(random, x);
        for (int r = 0; r < n; r++)
        {
            double z0 = x[2 * r], z1 = x[2 * r + 1];
            x[2 * r] = mean[0] + chol[0, 0] * z0;
            x[2 * r + 1] = mean[1] + chol[1, 0] * z0 + chol[1, 1] * z1;
        }
        var v = new double[2 * n];
        path.Velocity(x, t, v);
        double e = 0;
        foreach (double vi in v) e += vi * vi;
        e /= n;
        Assert.Equal(w2 / (tau * tau), e, 0.03 * w2 / (tau * tau));
        Assert.True(u > 0);
    }

    [Fact]
    public void InvalidInputsAreRejected()
    {
        Assert.Equal("covariance", Assert.Throws<ArgumentException>(() => new GaussianOptimalTransportPath(Mean, [1.0, 2.0, 2.0, 1.0])).ParamName);
        Assert.Equal("covariance", Assert.Throws<ArgumentException>(() => new GaussianOptimalTransportPath(Mean, [1.0, 0.0, 0.0])).ParamName);
        Assert.Equal("mean", Assert.Throws<ArgumentException>(() => new GaussianOptimalTransportPath([double.NaN, 0.0], Covariance)).ParamName);
        Assert.Equal("mean", Assert.Throws<ArgumentException>(() => new GaussianOptimalTransportPath([], [])).ParamName);
        Assert.Equal("tau", Assert.Throws<ArgumentOutOfRangeException>(() => new GaussianOptimalTransportPath(Mean, Covariance, 0)).ParamName);
        var path = new GaussianOptimalTransportPath(Mean, Covariance);
        Assert.Equal("t", Assert.Throws<ArgumentOutOfRangeException>(() => path.Velocity([0.0, 0.0], 1.1, new double[2])).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => path.Velocity([0.0, 0.0, 1.0], 0.5, new double[3])).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => path.Velocity([0.0, double.NaN], 0.5, new double[2])).ParamName);
    }
}
