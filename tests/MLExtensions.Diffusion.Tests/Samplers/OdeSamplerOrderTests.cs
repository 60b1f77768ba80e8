using MLExtensions.Diffusion.Samplers;
using MLExtensions.Diffusion.Schedules;
using Xunit.Abstractions;
using static MLExtensions.Diffusion.Tests.Samplers.GaussianFlowReference;

namespace MLExtensions.Diffusion.Tests.Samplers;

/// <summary>Convergence orders of the deterministic samplers against the exact Gaussian probability-flow map.</summary>
public class OdeSamplerOrderTests(ITestOutputHelper output)
{
    private static readonly int[] StepCounts = { 8, 16, 32, 64, 128 };

    private double Measure(ISampler sampler, double tEnd, int[] steps, NoiseSchedule? schedule = null, bool logSnrGrid = false)
    {
        var points = Errors(sampler, schedule ?? new CosineSchedule(), tEnd, steps, logSnrGrid);
        double slope = Slope(points);
        output.WriteLine($"{sampler.Name} t_end={tEnd} {schedule} logSnrGrid={logSnrGrid}: " + string.Join(", ", points.Select(p => $"NFE {p.Nfe}: {p.Error:E3}")) + $"; slope {slope:F3}");
        return slope;
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.02)]
    public void EulerIsFirstOrder(double tEnd)
    {
        double slope = Measure(new EulerSampler(), tEnd, StepCounts);
        Assert.InRange(slope, -1.3, -0.7);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.02)]
    public void HeunIsSecondOrder(double tEnd)
    {
        double slope = Measure(new HeunSampler(), tEnd, new[] { 4, 8, 16, 32, 64 });
        Assert.InRange(slope, -2.5, -1.6);
    }

    /// <remarks>
    /// On a grid uniform in t the first log-SNR step out of the cosine cut-off (eps = 1e-3) is ln(1 + 1/(N eps)), which
    /// does not shrink like 1/N until N &gt;&gt; 1000, so the multistep method is measured on its natural grid, uniform in
    /// log-SNR (measured slope about -1.9 over N = 16..256).
    /// </remarks>
    [Fact]
    public void DpmSolverPlusPlus2MIsSecondOrderOnLogSnrGrid()
    {
        double slope = Measure(new DpmSolverPlusPlus2M(), 0.02, new[] { 16, 32, 64, 128, 256 }, logSnrGrid: true);
        Assert.InRange(slope, -2.5, -1.8);
    }

    /// <remarks>
    /// A uniform t grid ending at sigma = 0 has log-SNR steps of order one near t = 0 (lambda ~ -ln t), so the error
    /// ratio per halving only creeps towards 4 (measured 2.8, 3.1, 3.4, 3.5 over N = 64..1024): assert the pre-asymptotic
    /// slope is steeper than -1.5 and, separately, that the final step to sigma = 0 returns m x0hat.
    /// </remarks>
    [Fact]
    public void DpmSolverPlusPlus2MConvergesToSigmaZero()
    {
        double slope = Measure(new DpmSolverPlusPlus2M(), 0.0, new[] { 64, 128, 256, 512, 1024 }, new CosineSchedule(endCutoff: 0.05));
        Assert.InRange(slope, -2.5, -1.5);
    }

    [Fact]
    public void DpmSolverPlusPlus2MBeatsDdimOnTheSameGrid()
    {
        var dpm = Errors(new DpmSolverPlusPlus2M(), new CosineSchedule(), 0.0, StepCounts);
        var ddim = Errors(new DdimSampler(0), new CosineSchedule(), 0.0, StepCounts);
        for (int k = 1; k < StepCounts.Length; k++) Assert.True(dpm[k].Error < 0.2 * ddim[k].Error);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.02)]
    public void DeterministicDdimConvergesAtLeastAtFirstOrder(double tEnd)
    {
        double slope = Measure(new DdimSampler(0), tEnd, StepCounts);
        Assert.True(slope <= -0.9, $"DDIM slope {slope}");
    }
}
