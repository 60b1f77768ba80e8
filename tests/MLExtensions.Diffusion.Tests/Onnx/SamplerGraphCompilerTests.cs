using Microsoft.ML.OnnxRuntime;
using MLExtensions.Diffusion.Onnx;
using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Samplers;
using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Training;
using Xunit.Abstractions;

namespace MLExtensions.Diffusion.Tests.Onnx;

public class SamplerGraphCompilerTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    public static TheoryData<string, int> DeterministicCases()
    {
        var data = new TheoryData<string, int>();
        foreach (string sampler in new[] { "euler", "heun", "ddim", "dpm" })
            foreach (int d in new[] { 2, 4 })
                data.Add(sampler, d);
        return data;
    }

    private static ISampler Sampler(string name) => name switch
    {
        "euler" => new EulerSampler(),
        "heun" => new HeunSampler(),
        "ddim" => new DdimSampler(0),
        "dpm" => new DpmSolverPlusPlus2M(),
        "ddim-eta" => new DdimSampler(0.7),
        "ddpm" => new DdpmAncestralSampler(DdpmVariance.BetaTilde),
        "ddpm-beta" => new DdpmAncestralSampler(DdpmVariance.Beta),
        "em" => new EulerMaruyamaSampler(),
        _ => throw new ArgumentException(name),
    };

    /// <summary>Runs the compiled graph once on <paramref name="noise"/> (and <paramref name="stepNoise"/> when stochastic).</summary>
    private static float[] RunGraph(InferenceSession session, SamplerGraph graph, float[] noise, int rows, float[]? stepNoise)
    {
        int d = graph.Dimension;
        var inputs = new List<(string, float[], long[])> { (SamplerGraphCompiler.InputNoise, noise, new long[] { rows, d }) };
        if (stepNoise is not null)
            inputs.Add((SamplerGraphCompiler.InputStepNoise, stepNoise, new long[] { graph.NoiseDraws, rows, d }));
        var (samples, shape) = OrtTestRunner.Run(session, SamplerGraphCompiler.OutputSamples, inputs.ToArray());
        Assert.Equal(new long[] { rows, d }, shape);
        return samples;
    }

    /// <summary>The C# engine on the same start: x = sigma_{t0} noise, then <c>sampler.Sample</c>.</summary>
    private static (double[] X, SamplerResult Result) RunCSharp(ISampler sampler, NeuralDenoiser denoiser, NoiseSchedule schedule, double[] times, float[] noise, Random? random)
    {
        double sigma0 = schedule.Sigma(times[0]);
        var x = new double[noise.Length];
        for (int i = 0; i < x.Length; i++) x[i] = sigma0 * noise[i];
        var result = sampler.Sample(denoiser, schedule, times, x, random);
        return (x, result);
    }

    [Theory]
    [MemberData(nameof(DeterministicCases))]
    public void DeterministicGraphMatchesCSharpSampler(string samplerName, int d)
    {
        var denoiser = ExportTestModels.Random(d, d == 2 ? ExportTestModels.Plain : ExportTestModels.ResidualEveryLayer, Parametrisation.Edm, seed: 20 + d);
        var schedule = new CosineSchedule();
        double[] times = TimeGrid.EdmRho(schedule, 12, 0.002, 80);
        var sampler = Sampler(samplerName);
        var graph = SamplerGraphCompiler.Compile(denoiser, schedule, times, sampler);
        Assert.False(graph.IsStochastic);
        Assert.Equal(new[] { SamplerGraphCompiler.InputNoise }, graph.Model.InputNames);
        using var session = OnnxSessionFactory.Create(graph.Model, OrtTestRunner.Settings);
        foreach (int rows in new[] { 1, 7, 64 })
        {
            var noise = OrtTestRunner.Normal(new Random(rows), rows * d);
            var (expected, result) = RunCSharp(sampler, denoiser, schedule, times, noise, null);
            Assert.Equal(result.Nfe, graph.Nfe);
            double diff = ExportTestModels.MaxAbsDiff(expected, RunGraph(session, graph, noise, rows, null));
            output.WriteLine($"{sampler.Name} d={d} N={rows} NFE={graph.Nfe}: max |graph - C#| = {diff:E2}");
            Assert.True(diff <= Tolerance, $"{sampler.Name} d={d} N={rows}: max |diff| = {diff:E3}");
        }
    }

    [Theory]
    [InlineData("euler")]
    [InlineData("heun")]
    [InlineData("dpm")]
    public void DeterministicGraphMatchesOnVeScheduleWithTrainedModel(string samplerName)
    {
        var denoiser = ExportTestModels.BrieflyTrained(2, seed: 3);
        var schedule = new VeSchedule(80);
        double[] times = TimeGrid.EdmRho(schedule, 10, 0.002, 80);
        var sampler = Sampler(samplerName);
        var graph = SamplerGraphCompiler.Compile(denoiser, schedule, times, sampler);
        using var session = OnnxSessionFactory.Create(graph.Model, OrtTestRunner.Settings);
        var noise = OrtTestRunner.Normal(new Random(4), 32 * 2);
        var (expected, _) = RunCSharp(sampler, denoiser, schedule, times, noise, null);
        double diff = ExportTestModels.MaxAbsDiff(expected, RunGraph(session, graph, noise, 32, null));
        output.WriteLine($"{sampler.Name} VE trained: max |graph - C#| = {diff:E2}");
        Assert.True(diff <= Tolerance, $"max |diff| = {diff:E3}");
    }

    /// <summary>
    /// A sampler step folds the level's preconditioning, standardisation and embedding (and, with every-layer
    /// conditioning, the projections) into per-level biases and Gemm scales: every parametrisation (c_skip = 0 for Data)
    /// and both layer kinds with projections keep the graph equal to the C# sampler.
    /// </summary>
    [Theory]
    [InlineData(Parametrisation.Epsilon, false)]
    [InlineData(Parametrisation.Data, false)]
    [InlineData(Parametrisation.Velocity, false)]
    [InlineData(Parametrisation.FlowVelocity, false)]
    [InlineData(Parametrisation.Edm, false)]
    [InlineData(Parametrisation.Data, true)]
    [InlineData(Parametrisation.Epsilon, true)]
    public void FoldedLevelsMatchCSharpSamplerForEveryParametrisation(Parametrisation parametrisation, bool residual)
    {
        const int d = 3, rows = 16;
        var denoiser = ExportTestModels.Random(d, residual ? ExportTestModels.ResidualEveryLayer : ExportTestModels.PlainEveryLayer, parametrisation, seed: 40 + (int)parametrisation);
        var schedule = new VpLinearSchedule();
        double[] times = TimeGrid.Uniform(schedule, 8, 1.0, 1e-3);
        var sampler = new HeunSampler();
        var graph = SamplerGraphCompiler.Compile(denoiser, schedule, times, sampler);
        using var session = OnnxSessionFactory.Create(graph.Model, OrtTestRunner.Settings);
        var noise = OrtTestRunner.Normal(new Random(9), rows * d);
        var (expected, _) = RunCSharp(sampler, denoiser, schedule, times, noise, null);
        double diff = ExportTestModels.MaxAbsDiff(expected, RunGraph(session, graph, noise, rows, null));
        // Random weights under the epsilon parametrisation give samples far from O(1) (x0 = z - s F with s ~ 90 at VP's
        // t = 1): the float32 state is then held to the same relative accuracy.
        double size = Math.Max(1, expected.Max(Math.Abs));
        output.WriteLine($"{parametrisation} residual={residual}: max |graph - C#| = {diff:E2}, max |sample| = {size:F1}");
        Assert.True(diff <= Tolerance * size, $"{parametrisation} residual={residual}: max |diff| = {diff:E3}, max |sample| = {size:F1}");
    }

    /// <summary>
    /// The stochastic graphs fed with <see cref="SamplerGraph.FillStepNoise"/> from a Random reproduce the C# sampler run with
    /// a Random of the same seed: the draws are the sampler's own, in its order.
    /// </summary>
    [Theory]
    [InlineData("ddim-eta", 2, 7)]
    [InlineData("ddpm", 2, 64)]
    [InlineData("ddpm-beta", 4, 7)]
    [InlineData("em", 2, 7)]
    [InlineData("em", 4, 1)]
    public void StochasticGraphReproducesCSharpSamplerFromTheSameRandom(string samplerName, int d, int rows)
    {
        var denoiser = ExportTestModels.Random(d, ExportTestModels.Plain, Parametrisation.Edm, seed: 30 + d);
        NoiseSchedule schedule = samplerName == "em" ? new VpLinearSchedule() : new CosineSchedule();
        double[] times = samplerName == "em" ? TimeGrid.Uniform(schedule, 40, 1.0, 1e-3) : TimeGrid.EdmRho(schedule, 12, 0.002, 80);
        var sampler = Sampler(samplerName);
        var graph = SamplerGraphCompiler.Compile(denoiser, schedule, times, sampler);
        Assert.True(graph.IsStochastic);
        // DDIM and DDPM draw on every step but the last (to sigma = 0); Euler-Maruyama on every step.
        Assert.Equal(samplerName == "em" ? times.Length - 1 : times.Length - 2, graph.NoiseDraws);
        Assert.Equal(new[] { SamplerGraphCompiler.InputNoise, SamplerGraphCompiler.InputStepNoise }, graph.Model.InputNames);
        var noise = OrtTestRunner.Normal(new Random(1), rows * d);
        var stepNoise = new float[graph.NoiseDraws * rows * d];
        graph.FillStepNoise(new Random(77), rows, stepNoise);
        var (expected, result) = RunCSharp(sampler, denoiser, schedule, times, noise, new Random(77));
        Assert.Equal(result.Nfe, graph.Nfe);
        using var session = OnnxSessionFactory.Create(graph.Model, OrtTestRunner.Settings);
        double diff = ExportTestModels.MaxAbsDiff(expected, RunGraph(session, graph, noise, rows, stepNoise));
        output.WriteLine($"{sampler.Name} d={d} N={rows} S={graph.NoiseDraws}: max |graph - C#| = {diff:E2}");
        Assert.True(diff <= Tolerance, $"max |diff| = {diff:E3}");

        // Different step noise gives different samples: the input is really used.
        var other = new float[stepNoise.Length];
        graph.FillStepNoise(new Random(78), rows, other);
        double change = ExportTestModels.MaxAbsDiff(OrtTestRunner.ToDouble(RunGraph(session, graph, noise, rows, stepNoise)), RunGraph(session, graph, noise, rows, other));
        Assert.True(change > 1e-2, $"step noise changed the samples by only {change:E2}");
    }

    [Fact]
    public void GraphIsCorrectWithoutOnnxRuntimeOptimisations()
    {
        var denoiser = ExportTestModels.Random(2, ExportTestModels.ResidualEveryLayer, Parametrisation.Velocity, seed: 5);
        var schedule = new VpLinearSchedule();
        double[] times = TimeGrid.UniformLogSnr(schedule, 8);
        var sampler = new DpmSolverPlusPlus2M();
        var graph = SamplerGraphCompiler.Compile(denoiser, schedule, times, sampler);
        using var session = OnnxSessionFactory.Create(graph.Model, new OnnxSessionSettings { IntraOpThreads = 1, OptimizeGraph = false });
        var noise = OrtTestRunner.Normal(new Random(6), 7 * 2);
        var (expected, _) = RunCSharp(sampler, denoiser, schedule, times, noise, null);
        double diff = ExportTestModels.MaxAbsDiff(expected, RunGraph(session, graph, noise, 7, null));
        output.WriteLine($"{sampler.Name} unoptimised: max |graph - C#| = {diff:E2}");
        Assert.True(diff <= Tolerance, $"max |diff| = {diff:E3}");
    }

    [Fact]
    public void WeightsAreStoredOnceWhateverTheNumberOfSteps()
    {
        var denoiser = ExportTestModels.Random(4, new MlpOptions { Width = 128, Depth = 3, EmbeddingFrequencies = 4, Threads = 1 }, Parametrisation.Edm, seed: 6);
        var schedule = new CosineSchedule();
        int parameterBytes = 4 * denoiser.Network.Parameters.Length;
        var short10 = SamplerGraphCompiler.Compile(denoiser, schedule, TimeGrid.EdmRho(schedule, 10, 0.002, 80), new HeunSampler());
        var long40 = SamplerGraphCompiler.Compile(denoiser, schedule, TimeGrid.EdmRho(schedule, 40, 0.002, 80), new HeunSampler());
        output.WriteLine($"parameters {parameterBytes} B; Heun 10 steps (NFE {short10.Nfe}) {short10.Model.SizeInBytes} B; 40 steps (NFE {long40.Nfe}) {long40.Model.SizeInBytes} B");
        Assert.Equal(79, long40.Nfe);
        Assert.True(short10.Model.SizeInBytes >= parameterBytes);
        // Each further network evaluation adds nodes only: a small fraction of one copy of the weights.
        double bytesPerExtraEvaluation = (long40.Model.SizeInBytes - short10.Model.SizeInBytes) / 60.0;
        Assert.True(bytesPerExtraEvaluation < parameterBytes / 20.0, $"{bytesPerExtraEvaluation:F0} bytes per extra evaluation");
    }

    [Fact]
    public void MetadataDescribesTheRun()
    {
        var denoiser = ExportTestModels.Random(2, ExportTestModels.Plain, Parametrisation.Edm, seed: 1);
        var schedule = new CosineSchedule();
        double[] times = TimeGrid.EdmRho(schedule, 5, 0.002, 80);
        var graph = SamplerGraphCompiler.Compile(denoiser, schedule, times, new EulerMaruyamaSampler());
        using var session = OnnxSessionFactory.Create(graph.Model, OrtTestRunner.Settings);
        Assert.Equal((2, 5), OnnxModelSignature.ValidateSampler(session, 2, "test"));
        var meta = session.ModelMetadata.CustomMetadataMap;
        Assert.Equal("sampler", meta["mlext.kind"]);
        Assert.Equal("euler-maruyama", meta["mlext.sampler"]);
        Assert.Equal("5", meta["mlext.nfe"]);
        Assert.Equal("5", meta["mlext.noise_draws"]);
        Assert.Equal("2", meta["mlext.dimension"]);
        Assert.Equal(schedule.ToString(), meta["mlext.schedule"]);
        var parsed = meta["mlext.times"].Split(',').Select(s => double.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(times, parsed);
        Assert.Equal(times, graph.Times);
    }

    [Fact]
    public void RejectsUnsupportedSamplersAndInvalidGrids()
    {
        var denoiser = ExportTestModels.Random(2, ExportTestModels.Plain, Parametrisation.Edm, seed: 1);
        var schedule = new CosineSchedule();
        var ex = Assert.Throws<ArgumentException>(() => SamplerGraphCompiler.Compile(denoiser, schedule, new[] { 0.5, 0.0 }, new LiOdeSampler()));
        Assert.Equal("sampler", ex.ParamName);
        Assert.Contains(new LiOdeSampler().Name, ex.Message);
        ex = Assert.Throws<ArgumentException>(() => SamplerGraphCompiler.Compile(denoiser, schedule, new[] { 0.2, 0.5 }, new EulerSampler()));
        Assert.Equal("times", ex.ParamName);
        Assert.Throws<ArgumentNullException>(() => SamplerGraphCompiler.Compile(null!, schedule, new[] { 0.5, 0.0 }, new EulerSampler()));
    }

    [Fact]
    public void FillStepNoiseChecksItsArguments()
    {
        var denoiser = ExportTestModels.Random(2, ExportTestModels.Plain, Parametrisation.Edm, seed: 1);
        var schedule = new CosineSchedule();
        var graph = SamplerGraphCompiler.Compile(denoiser, schedule, TimeGrid.EdmRho(schedule, 4, 0.002, 80), new DdpmAncestralSampler());
        Assert.Equal(3, graph.NoiseDraws);
        var ex = Assert.Throws<ArgumentException>(() => graph.FillStepNoise(new Random(1), 5, new float[3 * 5 * 2 - 1]));
        Assert.Equal("destination", ex.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => graph.FillStepNoise(new Random(1), 0, Array.Empty<float>()));
        Assert.Throws<ArgumentNullException>(() => graph.FillStepNoise(null!, 5, new float[30]));
        // The draws are StandardNormal.Fill per step, in order.
        var filled = new float[30];
        graph.FillStepNoise(new Random(9), 5, filled);
        var reference = new Random(9);
        for (int s = 0; s < 3; s++)
        {
            var draw = StandardNormal.Sample(reference, 10);
            for (int j = 0; j < 10; j++) Assert.Equal((float)draw[j], filled[s * 10 + j]);
        }
    }
}
