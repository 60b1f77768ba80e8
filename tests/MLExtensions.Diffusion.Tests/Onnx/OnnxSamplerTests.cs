using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Onnx;
using MLExtensions.Diffusion.Plans;

namespace MLExtensions.Diffusion.Tests.Onnx;

/// <summary>
/// The I/O-bound compiled sampler (issue 12) against the model's own C# generation, on the CPU provider: the same rows
/// from the same seeds up to float32 rounding, for any batch size and any range of the stream.
/// </summary>
public class OnnxSamplerTests
{
    private static readonly Lazy<DiffusionModelParameters> Penguins =
        new(() => DiffusionModelParameters.Load(Path.Combine(Tests.MLNet.PenguinsTestData.Folder, "model.zip")));

    private static OnnxSampler Create(int batchSize, SamplingPlan? plan = null, bool cudaGraph = false) =>
        new(Penguins.Value, new OnnxSamplerOptions
        {
            BatchSize = batchSize,
            Plan = plan,
            Session = new OnnxSessionSettings { ExecutionProvider = OnnxExecutionProvider.Cpu, IntraOpThreads = 1, CudaGraph = cudaGraph },
        });

    /// <summary>|a - b| within 1e-4 of each feature's scale (float32 through a few network passes).</summary>
    private static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double relative = 1e-4)
    {
        var model = Penguins.Value;
        int d = model.Dimension;
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double tolerance = relative * model.FeatureScaler.Scale[i % d];
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance,
                $"Row {i / d}, feature {i % d}: expected {expected[i]}, got {actual[i]} (tolerance {tolerance:G3}).");
        }
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(256)]
    [InlineData(333)]
    public void RowsEqualTheModelsOwnGenerationForAnyBatchSize(int batchSize)
    {
        using var sampler = Create(batchSize);
        Assert.Equal(OnnxExecutionProvider.Cpu, sampler.ExecutionProvider);
        Assert.False(sampler.UsesCudaGraph);
        AssertClose(Penguins.Value.Generate(1000, seed: 7), sampler.Generate(1000, seed: 7));
    }

    [Fact]
    public void AnyRangeOfTheStreamIsTheMatchingSliceOfTheWholeStream()
    {
        using var sampler = Create(128);
        int d = Penguins.Value.Dimension;
        float[] whole = sampler.Generate(600, seed: 11);
        var shard = new float[200 * d];
        sampler.Generate(11, firstRow: 300, shard);
        AssertClose(whole.AsSpan(300 * d, 200 * d), shard, relative: 1e-5);
        Assert.NotEqual(whole.AsSpan(0, 200 * d).ToArray(), shard);
    }

    [Fact]
    public void AnotherPlanIsCompiledAndFollowed()
    {
        var model = Penguins.Value;
        var plan = SamplingPlan.Create(model.Schedule, SamplingGridKind.UniformLogSnr, GenerateSamplerKind.DpmSolverPlusPlus2M, nfe: 6, topLevel: model.TrainedNoiseLevelRange.High);
        using var sampler = Create(500, plan);
        Assert.Same(plan, sampler.Plan);
        Assert.Equal(plan.Nfe, sampler.Nfe);
        AssertClose(model.WithSamplingPlan(plan).Generate(500, seed: 3), sampler.Generate(500, seed: 3));
    }

    [Fact]
    public void CudaGraphIsIgnoredOnTheCpu()
    {
        using var sampler = Create(100, cudaGraph: true);
        Assert.False(sampler.UsesCudaGraph);
        AssertClose(Penguins.Value.Generate(150, seed: 2), sampler.Generate(150, seed: 2));
    }

    [Fact]
    public void ThreadsSharingOneSamplerGetTheSequentialRows()
    {
        using var sampler = Create(64);
        var expected = Enumerable.Range(0, 4).Select(s => sampler.Generate(200, seed: s)).ToArray();
        var actual = new float[4][];
        Parallel.For(0, 4, s => actual[s] = sampler.Generate(200, seed: s));
        for (int s = 0; s < 4; s++) Assert.Equal(expected[s], actual[s]);
    }

    [Fact]
    public void BadArgumentsAreRejectedNamingTheArgument()
    {
        Assert.Equal("BatchSize", Assert.Throws<ArgumentOutOfRangeException>(() => new OnnxSamplerOptions { BatchSize = 0 }).ParamName);
        Assert.Equal("BatchSize", Assert.Throws<ArgumentOutOfRangeException>(() => new OnnxSamplerOptions { BatchSize = OnnxSamplerOptions.MaximumBatchSize + 1 }).ParamName);
        Assert.Throws<ArgumentNullException>(() => new OnnxSampler(null!));
        using var sampler = Create(16);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => sampler.Generate(1, 0, new float[5])).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => sampler.Generate(1, 0, Span<float>.Empty)).ParamName);
        Assert.Equal("firstRow", Assert.Throws<ArgumentOutOfRangeException>(() => sampler.Generate(1, -1, new float[4])).ParamName);
        Assert.Equal("firstRow", Assert.Throws<ArgumentOutOfRangeException>(() => sampler.Generate(1, LatentStream.MaximumRows, new float[4])).ParamName);
        Assert.Equal("count", Assert.Throws<ArgumentOutOfRangeException>(() => sampler.Generate(0, 1)).ParamName);
        sampler.Dispose();
        Assert.Throws<ObjectDisposedException>(() => sampler.Generate(4, 1));
    }
}
