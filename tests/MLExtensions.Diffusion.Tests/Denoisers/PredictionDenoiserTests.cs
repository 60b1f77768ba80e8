using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Tests.Denoisers;

public class PredictionDenoiserTests
{
    /// <summary>cond-OT, m = 1 - t, sigma = t, cut at t = 1 - 1e-3 (a non-VP path for the velocity wrapper).</summary>
    private sealed class ConditionalOtSchedule() : NoiseSchedule(1.0)
    {
        public override string Name => "test-cond-ot";
        public override double MaxTime => 1 - 1e-3;
        protected override double MCore(double t) => 1 - t;
        protected override double SigmaCore(double t) => t;
        protected override double MDotCore(double t) => -1;
        protected override double SigmaDotCore(double t) => 1;
    }

    private static readonly GaussianMixtureDenoiser Data = GaussianMixtureDenoiser.Isotropic([0.4, 0.6], [-1.0, 2.0, 1.5, 0.5], [0.5, 0.8]);

    /// <summary>Exact eps, v and score models built from the mixture's score (eps = -sigma s), not from x0.</summary>
    private static PredictionModel ExactModel(Prediction kind) => (x, m, sigma, p) =>
    {
        Data.Score(x, m, sigma, p);
        if (kind == Prediction.Score) return;
        for (int i = 0; i < x.Length; i++)
        {
            double eps = -sigma * p[i], x0 = (x[i] - sigma * eps) / m, r = Math.Sqrt(m * m + sigma * sigma);
            p[i] = kind == Prediction.Eps ? eps : (m * eps - sigma * x0) / r;
        }
    };

    /// <summary>The exact velocity of SPEC section 1 in its drift-minus-temperature-times-score form, nu = (mdot / m) x - T s.</summary>
    private static PredictionModel VelocityModel(NoiseSchedule schedule) => (x, m, sigma, p) =>
    {
        double t = schedule.TimeAtLogSnr(Math.Log(m / sigma));
        Assert.Equal(schedule.M(t), m, 1e-9);
        Data.Score(x, m, sigma, p);
        double drift = schedule.DriftRate(t), temperature = schedule.Temperature(t);
        for (int i = 0; i < x.Length; i++) p[i] = drift * x[i] - temperature * p[i];
    };

    [Theory]
    [InlineData(Prediction.Eps)]
    [InlineData(Prediction.V)]
    [InlineData(Prediction.Score)]
    public void WrappedExactModelsReproduceTheExactDenoiser(Prediction kind)
    {
        var denoiser = new PredictionDenoiser(2, kind, ExactModel(kind));
        double[] x = StandardNormal.Sample(new Random(1), 10);
        double[] expected = new double[10], actual = new double[10];
        foreach (var (m, sigma) in new[] { (1.0, 0.3), (0.7, 0.7), (0.2, 1.0), (1.0, 4.0) })
        {
            Data.Denoise(x, m, sigma, expected);
            denoiser.Denoise(x, m, sigma, actual);
            for (int i = 0; i < x.Length; i++) Assert.Equal(expected[i], actual[i], 1e-9);
        }
    }

    [Fact]
    public void X0ModelIsPassedThrough()
    {
        var denoiser = new PredictionDenoiser(2, Prediction.X0, Data.Denoise);
        double[] x = StandardNormal.Sample(new Random(2), 4), expected = new double[4], actual = new double[4];
        Data.Denoise(x, 0.9, 0.4, expected);
        denoiser.Denoise(x, 0.9, 0.4, actual);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void VelocityModelsAreInvertedOnTheirScheduleAtAnyScaleOfTheLevel()
    {
        foreach (NoiseSchedule schedule in new NoiseSchedule[] { new CosineSchedule(tau: 2.0), new ConditionalOtSchedule() })
        {
            var denoiser = new PredictionDenoiser(2, Prediction.Velocity, VelocityModel(schedule), schedule);
            double[] x = StandardNormal.Sample(new Random(3), 8);
            double[] expected = new double[8], actual = new double[8];
            foreach (double u in new[] { 0.05, 0.4, 0.8, 0.99 })
                foreach (double scale in new[] { 1.0, 3.0, 0.25 })
                {
                    double t = u * schedule.MaxTime, m = scale * schedule.M(t), sigma = scale * schedule.Sigma(t);
                    Data.Denoise(x, m, sigma, expected);
                    denoiser.Denoise(x, m, sigma, actual);
                    for (int i = 0; i < x.Length; i++) Assert.Equal(expected[i], actual[i], 1e-7 * (1 + Math.Abs(expected[i])));
                }
        }
    }

    [Fact]
    public void AtSigmaZeroTheModelIsNotCalled()
    {
        var denoiser = new PredictionDenoiser(2, Prediction.Eps, (_, _, _, _) => throw new InvalidOperationException("called"));
        double[] x0 = new double[2];
        denoiser.Denoise([1.0, -4.0], 2.0, 0.0, x0);
        Assert.Equal([0.5, -2.0], x0);
    }

    [Fact]
    public void BadInputIsRejectedNamingTheArgument()
    {
        PredictionModel model = ExactModel(Prediction.Eps);
        Assert.Equal("schedule", Assert.Throws<ArgumentNullException>(() => new PredictionDenoiser(2, Prediction.Velocity, model)).ParamName);
        Assert.Equal("model", Assert.Throws<ArgumentNullException>(() => new PredictionDenoiser(2, Prediction.Eps, null!)).ParamName);
        Assert.Equal("dimension", Assert.Throws<ArgumentOutOfRangeException>(() => new PredictionDenoiser(0, Prediction.Eps, model)).ParamName);
        Assert.Equal("kind", Assert.Throws<ArgumentException>(() => new PredictionDenoiser(2, (Prediction)9, model)).ParamName);
        var denoiser = new PredictionDenoiser(2, Prediction.Eps, model);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => denoiser.Denoise(new double[3], 1, 1, new double[3])).ParamName);
        Assert.Equal("x0", Assert.Throws<ArgumentException>(() => denoiser.Denoise(new double[2], 1, 1, new double[4])).ParamName);
        var schedule = new ConditionalOtSchedule();
        var velocity = new PredictionDenoiser(2, Prediction.Velocity, VelocityModel(schedule), schedule);
        // ln(m / sigma) = -10 is below the schedule's smallest log-SNR ln(1e-3 / 0.999).
        Assert.Equal("sigma", Assert.Throws<ArgumentOutOfRangeException>(() => velocity.Denoise(new double[2], Math.Exp(-10), 1, new double[2])).ParamName);
    }
}
