using MLExtensions.Diffusion.Samplers;
using MLExtensions.Diffusion.Schedules;
using Xunit.Abstractions;
using static MLExtensions.Diffusion.Tests.Samplers.LiChainReference;

namespace MLExtensions.Diffusion.Tests.Samplers;

public class LiAcceleratedSdeSamplerTests(ITestOutputHelper output)
{
    /// <summary>
    /// With the exact linear score the accelerated step is Gaussian-linear: Var(Y+) = w + b/2, then
    /// w_{t-1} = (w + b/2)(1 - b/v_t)^2 / alpha_t + b/2, b = 1 - alpha_t. The empirical variance must follow it, and both
    /// the recursion and the samples must land closer to s0^2 than the plain DDPM-type sampler at the same T.
    /// </summary>
    [Theory]
    [InlineData(0.5)]
    [InlineData(2.0)]
    public void VarianceFollowsItsRecursionAndBeatsThePlainSampler(double s0)
    {
        const int rows = 20000;
        var chain = DiscreteBetaSchedule.LiEtAl(100, 2, 4);
        double w = 1, wPlain = 1;
        for (int t = chain.Steps; t >= 1; t--)
        {
            double alpha = chain.Alpha(t), b = 1 - alpha, g = 1 - b / V(chain, t, s0);
            w = (w + b / 2) * g * g / alpha + b / 2;
            wPlain = (wPlain * g * g + b) / alpha;
        }
        double accelerated = EmpiricalVariance(new LiAcceleratedSdeSampler(), chain, s0, 1, rows, 17);
        double plain = EmpiricalVariance(new LiDdpmSampler(), chain, s0, 1, rows, 17);
        double se = w * Math.Sqrt(2.0 / rows);
        output.WriteLine($"s0 = {s0}, T = 100: target {s0 * s0}; accelerated recursion {w:F5}, empirical {accelerated:F5}; plain recursion {wPlain:F5}, empirical {plain:F5}");
        Assert.InRange(accelerated, w - 4 * se, w + 4 * se);
        Assert.True(Math.Abs(w - s0 * s0) < 0.7 * Math.Abs(wPlain - s0 * s0));
        Assert.True(Math.Abs(accelerated - s0 * s0) < Math.Abs(plain - s0 * s0));
    }
}
