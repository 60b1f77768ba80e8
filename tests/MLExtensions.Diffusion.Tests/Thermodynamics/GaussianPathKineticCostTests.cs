using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Thermodynamics;

namespace MLExtensions.Diffusion.Tests.Thermodynamics;

public class GaussianPathKineticCostTests
{
    [Theory]
    [InlineData("cosine")]
    [InlineData("cond-ot")]
    [InlineData("vp-linear")]
    public void OneDimensionalCostMatchesTheEntropyProductionQuadrature(string name)
    {
        // EntropyProduction.Integrate computes c2 by quadrature over x of |nu|^2 P with the analytic score: independent.
        NoiseSchedule schedule = name switch
        {
            "cosine" => new CosineSchedule(),
            "cond-ot" => new CondOtSchedule(),
            _ => new VpLinearSchedule(),
        };
        var data = GaussianDenoiser.Isotropic([0.3], 0.5);
        var metric = new GaussianDataPathMetric([0.3], [0.25]);
        double expected = EntropyProduction.Integrate(schedule, data).KineticCost;
        double actual = GaussianPathKineticCost.Compute(metric, schedule);
        Assert.Equal(expected, actual, 1e-6 * expected);
    }

    [Fact]
    public void FullCovarianceCostMatchesTheIntegratedSquaredBuresSpeed()
    {
        // For Gaussian data the flow is a gradient field, so c2 = integral v2^2 dt with v2 from the Lyapunov equation
        // of the marginal covariance (WassersteinSpeed.Gaussian), integrated on the same graded rule.
        double[] mu = [0.5, -0.3, 0.2];
        double[] cov = [1.5, 0.4, -0.2, 0.4, 0.8, 0.1, -0.2, 0.1, 0.3];
        var c = new double[3, 3];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) c[i, j] = cov[i * 3 + j];
        var data = GaussianDenoiser.Full(mu, c);
        var metric = new GaussianDataPathMetric(mu, cov);
        foreach (NoiseSchedule schedule in new NoiseSchedule[] { new CosineSchedule(tau: 2), new VpLinearSchedule(), new GaussianOtSchedule(0.8) })
        {
            var rule = GradedTimeQuadrature.Create(0, schedule.MaxTime, EntropyProduction.DefaultEndCutoff);
            double expected = 0;
            for (int i = 0; i < rule.Nodes.Length; i++)
            {
                double v = WassersteinSpeed.Gaussian(schedule, data, rule.Nodes[i]);
                expected += rule.Weights[i] * v * v;
            }
            Assert.Equal(expected, GaussianPathKineticCost.Compute(metric, schedule), 1e-9 * expected);
        }
    }

    [Fact]
    public void GaussianOtScheduleCostsTheSquaredDistance()
    {
        // The OT schedule moves at constant energy W2^2 / tau^2, so c2 over the integrated interval is its length times that.
        const double s0 = 0.7, tau = 2.0;
        double[] mu = [0.3, -0.8];
        var metric = new GaussianDataPathMetric(mu, [s0 * s0, 0, 0, s0 * s0]);
        var schedule = new GaussianOtSchedule(s0, tau);
        const double cut = 1e-9;
        double w2 = 0.09 + 0.64 + 2 * (s0 - 1) * (s0 - 1);
        double integrated = schedule.MaxTime * (1 - 2 * cut);
        Assert.Equal(w2 / (tau * tau) * integrated, GaussianPathKineticCost.Compute(metric, schedule, cut), 1e-7);
    }

    [Fact]
    public void InvalidInputIsRejected()
    {
        var metric = new GaussianDataPathMetric([0.5], [1.0]);
        Assert.Throws<ArgumentNullException>(() => GaussianPathKineticCost.Compute(null!, new CosineSchedule()));
        Assert.Throws<ArgumentNullException>(() => GaussianPathKineticCost.Compute(metric, null!));
        Assert.Equal("endCutoff", Assert.Throws<ArgumentOutOfRangeException>(() => GaussianPathKineticCost.Compute(metric, new CosineSchedule(), 0.5)).ParamName);
        Assert.Equal("metric", Assert.Throws<ArgumentException>(() => GaussianPathKineticCost.Compute(new NaNMetric(), new CosineSchedule())).ParamName);
    }

    private sealed class NaNMetric : IGaussianPathMetric
    {
        public GaussianPathCoefficients Coefficients(double phi) => new(double.NaN, 0, 1);
    }

    [Fact]
    public void Speed_IsTheConstantW2SpeedOnTheGaussianOtSchedule_AndFiniteAtTheEnds()
    {
        // Isotropic N(mu, s^2 I): the Gaussian OT schedule moves at the constant speed W2 / tau, W2^2 = |mu|^2 + d (s - 1)^2.
        double s0 = 0.6, tau = 2.0;
        double[] mu = [0.5, -1.0];
        var metric = new GaussianDataPathMetric(mu, [s0 * s0, 0, 0, s0 * s0]);
        var schedule = new GaussianOtSchedule(s0, tau);
        double w2 = Math.Sqrt(0.25 + 1.0 + 2 * (s0 - 1) * (s0 - 1));
        var speed = GaussianPathKineticCost.Speed(metric, schedule);
        foreach (double u in new[] { 0.1, 0.5, 0.9 }) Assert.Equal(w2 / tau, speed(u * schedule.MaxTime), 1e-9);
        Assert.True(double.IsFinite(speed(0)) && double.IsFinite(speed(schedule.MaxTime)));
        Assert.Throws<ArgumentNullException>(() => GaussianPathKineticCost.Speed(null!, schedule));
    }
}
