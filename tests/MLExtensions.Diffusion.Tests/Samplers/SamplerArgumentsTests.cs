using MLExtensions.Diffusion.Samplers;
using MLExtensions.Diffusion.Schedules;

namespace MLExtensions.Diffusion.Tests.Samplers;

/// <summary>Input validation, determinism and NFE bookkeeping shared by every sampler.</summary>
public class SamplerArgumentsTests
{
    public static ISampler Create(string name) => name switch
    {
        "euler" => new EulerSampler(),
        "heun" => new HeunSampler(),
        "ddim" => new DdimSampler(0),
        "ddim1" => new DdimSampler(1),
        "ddpm" => new DdpmAncestralSampler(),
        "ddpm-beta" => new DdpmAncestralSampler(DdpmVariance.Beta),
        "dpm" => new DpmSolverPlusPlus2M(),
        "em" => new EulerMaruyamaSampler(),
        "li-ode" => new LiOdeSampler(),
        "li-ddpm" => new LiDdpmSampler(),
        "li-acc-sde" => new LiAcceleratedSdeSampler(),
        "li-acc-ode" => new LiAcceleratedOdeSampler(),
        _ => throw new ArgumentException(name),
    };

    private static bool IsChain(string name) => name.StartsWith("li-", StringComparison.Ordinal);

    private static bool IsStochastic(string name) => name is "ddim1" or "ddpm" or "ddpm-beta" or "em" or "li-ddpm" or "li-acc-sde";

    public static TheoryData<string> All => new() { "euler", "heun", "ddim", "ddim1", "ddpm", "ddpm-beta", "dpm", "em", "li-ode", "li-ddpm", "li-acc-sde", "li-acc-ode" };

    public static TheoryData<string> Stochastic => new() { "ddim1", "ddpm", "ddpm-beta", "em", "li-ddpm", "li-acc-sde" };

    private static (NoiseSchedule Schedule, double[] Times) Setup(string name, int steps = 10) =>
        IsChain(name)
            ? (DiscreteBetaSchedule.DdpmLinear(steps), Enumerable.Range(0, steps + 1).Select(i => (double)(steps - i)).ToArray())
            : (new CosineSchedule(), GaussianFlowReference.UniformGrid(0.9, 0.0, steps));

    private static double[] Rows(int rows) => GaussianFlowReference.MarginalRows(new CosineSchedule(), 0.9, rows, new Random(5));

    [Theory]
    [MemberData(nameof(All))]
    public void RejectsBadInputNamingTheArgument(string name)
    {
        var sampler = Create(name);
        var denoiser = GaussianFlowReference.Denoiser();
        var (schedule, times) = Setup(name);
        var random = new Random(1);

        var nan = Rows(3);
        nan[4] = double.NaN;
        Assert.Equal("x", Assert.ThrowsAny<ArgumentException>(() => sampler.Sample(denoiser, schedule, times, nan, random)).ParamName);
        Assert.Equal("x", Assert.ThrowsAny<ArgumentException>(() => sampler.Sample(denoiser, schedule, times, new double[5], random)).ParamName);
        Assert.Equal("x", Assert.ThrowsAny<ArgumentException>(() => sampler.Sample(denoiser, schedule, times, Array.Empty<double>(), random)).ParamName);

        var increasing = times.Reverse().ToArray();
        Assert.Equal("times", Assert.ThrowsAny<ArgumentException>(() => sampler.Sample(denoiser, schedule, increasing, Rows(3), random)).ParamName);
        Assert.Equal("times", Assert.ThrowsAny<ArgumentException>(() => sampler.Sample(denoiser, schedule, times.AsSpan(0, 1), Rows(3), random)).ParamName);
        var beyond = (double[])times.Clone();
        beyond[0] = schedule.MaxTime + 1;
        Assert.Equal("times", Assert.ThrowsAny<ArgumentException>(() => sampler.Sample(denoiser, schedule, beyond, Rows(3), random)).ParamName);
        var infinite = (double[])times.Clone();
        infinite[1] = double.NaN;
        Assert.Equal("times", Assert.ThrowsAny<ArgumentException>(() => sampler.Sample(denoiser, schedule, infinite, Rows(3), random)).ParamName);

        Assert.Equal("denoiser", Assert.Throws<ArgumentNullException>(() => sampler.Sample(null!, schedule, times, Rows(3), random)).ParamName);
        Assert.Equal("schedule", Assert.Throws<ArgumentNullException>(() => sampler.Sample(denoiser, null!, times, Rows(3), random)).ParamName);
    }

    [Theory]
    [MemberData(nameof(Stochastic))]
    public void StochasticSamplersRequireRandom(string name)
    {
        var (schedule, times) = Setup(name);
        var e = Assert.Throws<ArgumentNullException>(() => Create(name).Sample(GaussianFlowReference.Denoiser(), schedule, times, Rows(3), null));
        Assert.Equal("random", e.ParamName);
    }

    [Theory]
    [InlineData("li-ode")]
    [InlineData("li-ddpm")]
    [InlineData("li-acc-sde")]
    [InlineData("li-acc-ode")]
    public void ChainSamplersRequireTheChain(string name)
    {
        var sampler = Create(name);
        var denoiser = GaussianFlowReference.Denoiser();
        var random = new Random(1);
        var cosine = new CosineSchedule();
        Assert.Equal("schedule", Assert.ThrowsAny<ArgumentException>(() => sampler.Sample(denoiser, cosine, new[] { 0.9, 0.0 }, Rows(3), random)).ParamName);
        var chain = DiscreteBetaSchedule.DdpmLinear(10);
        Assert.Equal("times", Assert.ThrowsAny<ArgumentException>(() => sampler.Sample(denoiser, chain, new[] { 10.0, 8.0, 6.0 }, Rows(3), random)).ParamName);
        Assert.Equal("times", Assert.ThrowsAny<ArgumentException>(() => sampler.Sample(denoiser, chain, new[] { 9.5, 8.5 }, Rows(3), random)).ParamName);
        // A run of the chain that does not start at T is accepted.
        var result = sampler.Sample(denoiser, chain, new[] { 7.0, 6.0, 5.0 }, Rows(3), random);
        Assert.Equal(2, result.Steps);
    }

    [Theory]
    [MemberData(nameof(All))]
    public void SameSeedGivesIdenticalBitsAndReportedNfeMatchesCalls(string name)
    {
        var (schedule, times) = Setup(name);
        var a = Rows(50);
        var b = (double[])a.Clone();
        var countA = new CountingDenoiser(GaussianFlowReference.Denoiser());
        var countB = new CountingDenoiser(GaussianFlowReference.Denoiser());
        var ra = Create(name).Sample(countA, schedule, times, a, new Random(42));
        var rb = Create(name).Sample(countB, schedule, times, b, new Random(42));
        Assert.Equal(a, b);
        Assert.Equal(ra, rb);
        Assert.Equal(countA.Calls, ra.Nfe);
        Assert.Equal(times.Length - 1, ra.Steps);
        Assert.All(a, v => Assert.True(double.IsFinite(v)));

        if (IsStochastic(name))
        {
            var c = Rows(50);
            Create(name).Sample(GaussianFlowReference.Denoiser(), schedule, times, c, new Random(43));
            Assert.NotEqual(a, c);
        }
    }

    [Fact]
    public void NfeCountsFollowTheSolverDefinitions()
    {
        var cosine = new CosineSchedule();
        var denoiser = GaussianFlowReference.Denoiser();
        var toZero = GaussianFlowReference.UniformGrid(0.9, 0.0, 12);
        var toPositive = GaussianFlowReference.UniformGrid(0.9, 0.1, 12);
        Assert.Equal(new SamplerResult(12, 12), new EulerSampler().Sample(denoiser, cosine, toZero, Rows(4)));
        Assert.Equal(new SamplerResult(23, 12), new HeunSampler().Sample(denoiser, cosine, toZero, Rows(4)));
        Assert.Equal(new SamplerResult(24, 12), new HeunSampler().Sample(denoiser, cosine, toPositive, Rows(4)));
        Assert.Equal(new SamplerResult(12, 12), new DpmSolverPlusPlus2M().Sample(denoiser, cosine, toZero, Rows(4)));
        Assert.Equal(new SamplerResult(12, 12), new DdimSampler().Sample(denoiser, cosine, toZero, Rows(4)));
    }
}
