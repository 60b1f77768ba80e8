using MLExtensions.Diffusion.Samplers;
using MLExtensions.Diffusion.Schedules;
using static MLExtensions.Diffusion.Tests.Samplers.LiChainReference;

namespace MLExtensions.Diffusion.Tests.Samplers;

public class LiDdpmSamplerTests
{
    /// <summary>Empirical variance against the SPEC recursion w_{t-1} = [w_t (1 - (1 - alpha_t)/v_t)^2 + 1 - alpha_t] / alpha_t,
    /// started from N(0, 1) as in Li et al.; T = 100 with their schedule leaves a visible 10% bias the recursion must predict.</summary>
    [Theory]
    [InlineData(0.5)]
    [InlineData(2.0)]
    public void VarianceFollowsTheSpecRecursion(double s0)
    {
        const int rows = 20000;
        var chain = DiscreteBetaSchedule.LiEtAl(100, 2, 4);
        double w = 1;
        for (int t = chain.Steps; t >= 1; t--)
        {
            double alpha = chain.Alpha(t), g = 1 - (1 - alpha) / V(chain, t, s0);
            w = (w * g * g + 1 - alpha) / alpha;
        }
        double empirical = EmpiricalVariance(new LiDdpmSampler(), chain, s0, 1, rows, 7);
        double se = w * Math.Sqrt(2.0 / rows);
        Assert.InRange(empirical, w - 4 * se, w + 4 * se);
        Assert.True(Math.Abs(w - s0 * s0) > 6 * se, "the check should be sharp enough to see the discretisation bias");
    }
}
