using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.Samplers;
using MLExtensions.Diffusion.Schedules;
using static MLExtensions.Diffusion.Tests.Samplers.GaussianFlowReference;

namespace MLExtensions.Diffusion.Tests.Samplers;

public class DdpmAncestralSamplerTests
{
    /// <summary>
    /// For data N(0, I) on a VP path, the posterior mean with the exact denoiser is a x_t and the true reverse transition
    /// x_s | x_t is N(a x_t, 1 - a^2) = N(a x_t, beta): with the Beta variance every step is exact, so even a coarse grid
    /// keeps the marginal N(0, 1); BetaTilde underestimates the variance there.
    /// </summary>
    [Fact]
    public void BetaVarianceIsExactForStandardNormalDataOnACoarseGrid()
    {
        const int rows = 20000;
        var schedule = new CosineSchedule();
        var denoiser = GaussianDenoiser.Isotropic(new double[] { 0 }, 1.0);
        var times = new[] { 0.99, 0.7, 0.45, 0.2, 0.05 };
        double se = Math.Sqrt(2.0 / rows);

        var x = Randomness.StandardNormal.Sample(new Random(3), rows);
        new DdpmAncestralSampler(DdpmVariance.Beta).Sample(denoiser, schedule, times, x, new Random(4));
        Assert.InRange(Moments(x, 1, 0).Variance, 1 - 4 * se, 1 + 4 * se);

        var y = Randomness.StandardNormal.Sample(new Random(3), rows);
        new DdpmAncestralSampler(DdpmVariance.BetaTilde).Sample(denoiser, schedule, times, y, new Random(4));
        Assert.True(Moments(y, 1, 0).Variance < 1 - 10 * se);
    }

    [Fact]
    public void StepToSigmaZeroReturnsThePosteriorMeanWithoutNoise()
    {
        var schedule = new CosineSchedule();
        var denoiser = Denoiser();
        var x = StartRows(schedule, 0.3);
        var expected = new double[x.Length];
        denoiser.Denoise(x, schedule.M(0.3), schedule.Sigma(0.3), expected);
        new DdpmAncestralSampler(DdpmVariance.Beta).Sample(denoiser, schedule, new[] { 0.3, 0.0 }, x, new Random(1));
        for (int i = 0; i < x.Length; i++) Assert.Equal(expected[i], x[i], 12);
    }

    [Fact]
    public void RejectsUndefinedVariance() =>
        Assert.Equal("variance", Assert.Throws<ArgumentOutOfRangeException>(() => new DdpmAncestralSampler((DdpmVariance)7)).ParamName);
}
