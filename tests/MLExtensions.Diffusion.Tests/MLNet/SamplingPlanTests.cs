using Microsoft.ML;
using Microsoft.ML.Data;
using MLExtensions.Diffusion.Denoisers;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.Onnx;
using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Samplers;
using MLExtensions.Diffusion.Schedules;
using MLExtensions.Diffusion.Tests.Onnx;

namespace MLExtensions.Diffusion.Tests.MLNet;

/// <summary>Sampling plans: validation, NFE, JSON, and that every generating path of a model follows its plan.</summary>
public class SamplingPlanTests(DiffusionModelFixture fixture) : IClassFixture<DiffusionModelFixture>
{
    private MLContext Context => fixture.Context;

    private string NewPath(string name) => Path.Combine(fixture.Folder, $"{Guid.NewGuid():N}-{name}");

    /// <summary>A plan on another schedule than the training one: the Gaussian-OT path, uniform in t from level 15.</summary>
    private static SamplingPlan OtPlan(int steps, GenerateSamplerKind sampler)
    {
        var schedule = new GaussianOtSchedule(0.8);
        double start = schedule.TimeAtLogSnr(-Math.Log(15.0));
        return new SamplingPlan(schedule, TimeGrid.Uniform(schedule, steps, start), sampler);
    }

    private sealed class CountingDenoiser(IDenoiser inner) : IDenoiser
    {
        public int Calls { get; private set; }

        public int Dimension => inner.Dimension;

        public void Denoise(ReadOnlySpan<double> x, double m, double sigma, Span<double> x0)
        {
            Calls++;
            inner.Denoise(x, m, sigma, x0);
        }
    }

    [Theory]
    [InlineData(GenerateSamplerKind.Heun)]
    [InlineData(GenerateSamplerKind.Euler)]
    [InlineData(GenerateSamplerKind.Ddim)]
    [InlineData(GenerateSamplerKind.DpmSolverPlusPlus2M)]
    public void Nfe_IsTheNumberOfDenoiserCallsOfARealRun_AndStepsForNfeInvertsIt(GenerateSamplerKind kind)
    {
        foreach (int steps in new[] { 1, 2, 5, 12 })
        {
            var plan = OtPlan(steps, kind);
            var counting = new CountingDenoiser(GaussianDenoiser.Isotropic([0.5, -1], 0.8));
            plan.CreateSampler().Sample(counting, plan.Schedule, plan.Times, new double[2 * 3], new Random(1));
            Assert.Equal(counting.Calls, plan.Nfe);
            Assert.Equal(kind == GenerateSamplerKind.Heun ? 2 * steps - 1 : steps, plan.Nfe);
            Assert.Equal(steps, SamplingPlan.StepsForNfe(kind, plan.Nfe));
        }
    }

    [Fact]
    public void BadPlans_FailNamingTheProblem()
    {
        var schedule = new CosineSchedule();
        var e = Assert.Throws<ArgumentException>(() => new SamplingPlan(schedule, [0.0]));
        Assert.Equal("times", e.ParamName);
        Assert.Contains("0 network evaluations", e.Message);
        e = Assert.Throws<ArgumentException>(() => new SamplingPlan(schedule, [0.9, 0.5, 0.6, 0]));
        Assert.Contains("times[2]", e.Message);
        e = Assert.Throws<ArgumentException>(() => new SamplingPlan(schedule, [0.9, 0.9, 0]));
        Assert.Contains("times[1]", e.Message);
        e = Assert.Throws<ArgumentException>(() => new SamplingPlan(schedule, [0.9, 0.1]));
        Assert.Contains("end at t = 0", e.Message);
        e = Assert.Throws<ArgumentException>(() => new SamplingPlan(schedule, [1.0, 0]));
        Assert.Contains("MaxTime", e.Message);
        Assert.Throws<ArgumentException>(() => new SamplingPlan(schedule, [double.NaN, 0]));
        Assert.Equal("nfe", Assert.Throws<ArgumentOutOfRangeException>(() => SamplingPlan.StepsForNfe(GenerateSamplerKind.Euler, 0)).ParamName);
        Assert.Equal("nfe", Assert.Throws<ArgumentOutOfRangeException>(() => SamplingPlan.StepsForNfe(GenerateSamplerKind.Heun, 10)).ParamName);
        Assert.Equal("sampler", Assert.Throws<ArgumentOutOfRangeException>(() => new SamplingPlan(schedule, [0.5, 0], (GenerateSamplerKind)42)).ParamName);
    }

    [Fact]
    public void Json_RoundTrips_AndBadDocumentsFailClearly()
    {
        var plan = OtPlan(6, GenerateSamplerKind.DpmSolverPlusPlus2M);
        var back = SamplingPlan.FromJson(plan.ToJson());
        Assert.Equal(plan.Times.ToArray(), back.Times.ToArray());
        Assert.Equal(plan.Sampler, back.Sampler);
        Assert.Equal(plan.Nfe, back.Nfe);
        Assert.Equal(ScheduleJson.Serialize(plan.Schedule), ScheduleJson.Serialize(back.Schedule));
        Assert.Contains("unknown sampler 'Magic'", Assert.Throws<InvalidDataException>(() => SamplingPlan.FromJson(plan.ToJson().Replace("DpmSolverPlusPlus2M", "Magic"))).Message);
        Assert.Contains("decrease strictly", Assert.Throws<InvalidDataException>(() =>
            SamplingPlan.FromJson("""{"sampler":"Heun","times":[0.5,0.6,0],"schedule":{"family":"cosine","tau":1,"endCutoff":0.001}}""")).Message);
        Assert.Contains("lacks 'times'", Assert.Throws<InvalidDataException>(() =>
            SamplingPlan.FromJson("""{"sampler":"Heun","schedule":{"family":"cosine","tau":1,"endCutoff":0.001}}""")).Message);
    }

    [Fact]
    public void WithSamplingPlan_GeneratesAlongThePlan_ExactlyAsAHandWrittenLoop_AndLeavesTheOriginalUnchanged()
    {
        var model = fixture.ScaledModel;
        var plan = OtPlan(7, GenerateSamplerKind.DpmSolverPlusPlus2M);
        var tuned = model.WithSamplingPlan(plan);
        Assert.Same(plan, tuned.SamplingPlan);
        Assert.Equal(GenerateSamplerKind.Heun, model.SamplingPlan.Sampler);

        // Independent computation: start law by hand, the solver on the plan's schedule, then de-standardise.
        const int rows = 50;
        var noise = StandardNormal.Sample(new Random(9), rows * 2).Select(v => (float)v).ToArray();
        double t0 = plan.Times[0], m0 = plan.Schedule.M(t0), s0 = plan.Schedule.Sigma(t0);
        var std = model.Standardizer;
        double spread = Math.Sqrt(m0 * m0 * std.Scale[0] * std.Scale[0] + s0 * s0);
        var x = new double[rows * 2];
        for (int i = 0; i < x.Length; i++) x[i] = m0 * std.Mean[i % 2] + spread * noise[i];
        new DpmSolverPlusPlus2M().Sample(model.Denoiser, plan.Schedule, plan.Times, x);
        var expected = x.Select((v, i) => (float)(model.FeatureScaler.Mean[i % 2] + model.FeatureScaler.Scale[i % 2] * v)).ToArray();
        Assert.Equal(expected, tuned.GenerateFromNoise(noise));
        var (mean, sd) = tuned.StartLaw();
        Assert.Equal(spread, sd, 15);
        Assert.Equal(m0 * std.Mean[1], mean[1], 15);

        // The original still samples its default plan; the tuned one differs from it.
        Assert.NotEqual(expected, model.GenerateFromNoise(noise));
        // Steps given: the plan's schedule (and solver) with the default grid of that many steps.
        var grid = tuned.SamplingTimes(4);
        Assert.Equal(tuned.TrainedNoiseLevelRange.High, plan.Schedule.Sigma(grid[0]) / plan.Schedule.M(grid[0]), 1e-6);
        var viaPlan = model.WithSamplingPlan(new SamplingPlan(plan.Schedule, grid, GenerateSamplerKind.DpmSolverPlusPlus2M)).GenerateFromNoise(noise);
        Assert.Equal(viaPlan, tuned.GenerateFromNoise(noise, steps: 4));
    }

    [Fact]
    public void TheDefaultGrid_IsUniformInTheAngle_WhichOnTheCosineScheduleIsUniformTime()
    {
        var model = fixture.ScaledModel;
        var cosine = Assert.IsType<CosineSchedule>(model.Schedule);
        double top = model.TrainedNoiseLevelRange.High;
        double tTop = 2 / Math.PI * Math.Atan(top) * cosine.Tau;   // cosine: sigma/m = tan(pi t / (2 tau))
        var expected = TimeGrid.Uniform(cosine, 6, tTop);
        var actual = model.SamplingTimes(6);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-12);
        // On another schedule the levels are the same tan(phi_i), phi_i uniform.
        var vp = new VpLinearSchedule();
        var plan = SamplingPlan.Create(vp, SamplingGridKind.UniformAngle, GenerateSamplerKind.Euler, 4, top);
        var levels = plan.NoiseLevels();
        for (int i = 0; i <= 4; i++) Assert.Equal(Math.Tan(Math.Atan(top) * (4 - i) / 4), levels[i], 1e-9 * (1 + levels[i]));
    }

    [Fact]
    public void APlanStartingWhereTheNetworkWasNotTrained_IsRejected()
    {
        var model = fixture.ScaledModel;
        var schedule = model.Schedule;   // cosine: reaches sigma/m = 637 at MaxTime
        double limit = DiffusionModel.FollowableNoiseLevelFactor * model.TrainedNoiseLevelRange.High;
        var tooHigh = new SamplingPlan(schedule, [schedule.MaxTime, 0.5, 0]);
        Assert.True(tooHigh.TopNoiseLevel > limit);
        var e = Assert.Throws<ArgumentException>(() => model.WithSamplingPlan(tooHigh));
        Assert.Equal("plan", e.ParamName);
        Assert.Contains("cannot follow", e.Message);
        Assert.Throws<ArgumentException>(() => model.ExportSamplerOnnx(tooHigh));
        double justBelow = schedule.TimeAtLogSnr(-Math.Log(0.99 * limit));
        Assert.Equal(justBelow, model.WithSamplingPlan(new SamplingPlan(schedule, [justBelow, 0])).SamplingPlan.Times[0]);
    }

    [Fact]
    public void ThePlanSurvivesSaveAndLoad_AndIsCompiledIntoTheZipsSamplerGraph()
    {
        var model = fixture.ScaledModel;
        // A tabulated schedule (the kind a fitted path produces) with a Heun plan.
        var ot = new GaussianOtSchedule(0.8);
        var knots = Enumerable.Range(0, 41).Select(k => ot.Tau * k / 40.0).ToArray();
        var tabulated = new TabulatedSchedule(knots, knots.Select(t => t < ot.Tau ? ot.M(t) : 0).ToArray(),
            knots.Select(t => ot.Sigma(t)).ToArray());
        double start = tabulated.TimeAtLogSnr(-Math.Log(12.0));
        var plan = new SamplingPlan(tabulated, TimeGrid.Uniform(tabulated, 5, start), GenerateSamplerKind.Heun);
        var tuned = model.WithSamplingPlan(plan);
        string path = NewPath("planned.zip");
        tuned.Save(path);
        var loaded = Context.Diffusion().LoadModel(path);
        Assert.Equal(plan.Times.ToArray(), loaded.SamplingPlan.Times.ToArray());
        Assert.Equal("tabulated", loaded.SamplingPlan.Schedule.Name);
        Assert.Equal(plan.Nfe, loaded.SamplingPlan.Nfe);
        const int rows = 40;
        var noise = StandardNormal.Sample(new Random(3), rows * 2).Select(v => (float)v).ToArray();
        var expected = tuned.GenerateFromNoise(noise);
        Assert.Equal(expected, loaded.GenerateFromNoise(noise));
        Assert.Equal(tuned.Generate(30, seed: 4), loaded.Generate(30, seed: 4));

        byte[] graph;
        using (var zip = System.IO.Compression.ZipFile.OpenRead(path))
        using (var stream = zip.GetEntry(DiffusionModelArchive.SamplerOnnxEntry)!.Open())
        using (var copy = new MemoryStream())
        {
            stream.CopyTo(copy);
            graph = copy.ToArray();
        }
        using var session = OnnxSessionFactory.Create(graph, OrtTestRunner.Settings);
        var (samples, _) = OrtTestRunner.Run(session, SamplerGraphCompiler.OutputSamples, (SamplerGraphCompiler.InputNoise, noise, [rows, 2]));
        for (int i = 0; i < samples.Length; i++)
            Assert.True(Math.Abs(samples[i] - expected[i]) <= 1e-4 * model.FeatureScaler.Scale[i % 2], $"index {i}: ONNX {samples[i]}, C# {expected[i]}");
    }

    [Theory]
    [InlineData(GenerateEngine.CSharp)]
    [InlineData(GenerateEngine.OnnxGraph)]
    public void TheGenerateTransformer_FollowsThePlan(GenerateEngine engine)
    {
        var tuned = fixture.ScaledModel.WithSamplingPlan(OtPlan(6, GenerateSamplerKind.Euler));
        var noise = StandardNormal.Sample(new Random(5), 30 * 2).Select(v => (float)v).ToArray();
        var expected = tuned.GenerateFromNoise(noise);
        var view = Context.Data.LoadFromEnumerable(Enumerable.Range(0, 30).Select(r => new LatentRow { Noise = noise.AsSpan(2 * r, 2).ToArray() }).ToList());
        using var generator = Context.Diffusion().Generate(tuned, new GenerateOptions { InputColumnName = "Noise", Engine = engine, SessionSettings = OrtTestRunner.Settings });
        Assert.Equal(GenerateSamplerKind.Euler, generator.Plan!.Sampler);
        var rows = generator.Transform(view).GetColumn<float[]>(GenerateOptions.DefaultOutputColumnName).SelectMany(r => r).ToArray();
        for (int i = 0; i < rows.Length; i++)
            Assert.True(Math.Abs(rows[i] - expected[i]) <= 1e-4 * tuned.FeatureScaler.Scale[i % 2], $"index {i}: {rows[i]} vs {expected[i]}");
        // Path thermodynamics integrate along Heun: a plan with another solver needs Sampler = Heun.
        Assert.Throws<ArgumentOutOfRangeException>(() => new GenerateTransformer(tuned, new GenerateOptions { AttachPathThermodynamics = true, Engine = engine }));
    }

    [Fact]
    public void ACustomTrainingSchedule_IsTrainedWith_SavedAndRestored()
    {
        var options = MLNetTestData.TinyOptions(60);
        options.CustomSchedule = new GaussianOtSchedule(1.0);
        var model = Context.Diffusion().Trainers.ScoreMatching(options).Fit(MLNetTestData.View(Context, MLNetTestData.Mixture(100, 3)));
        Assert.Equal("gaussian-ot", model.Schedule.Name);
        Assert.Same(model.Schedule, model.SamplingPlan.Schedule);
        string path = NewPath("custom.zip");
        model.Save(path);
        var loaded = Context.Diffusion().LoadModel(path);
        Assert.IsType<GaussianOtSchedule>(loaded.Schedule);
        Assert.IsType<GaussianOtSchedule>(loaded.Options.CustomSchedule);
        Assert.Equal(model.Generate(20, seed: 1), loaded.Generate(20, seed: 1));

        var retimed = MLExtensions.Diffusion.Thermodynamics.ScheduleRetiming.ConstantSpeed(new CosineSchedule(), t => 1.0).Schedule;
        var bad = MLNetTestData.TinyOptions(60);
        bad.CustomSchedule = retimed;
        Assert.Equal(nameof(ScoreMatchingOptions.CustomSchedule), Assert.Throws<ArgumentException>(bad.Validate).ParamName);
    }

    private sealed class LatentRow
    {
        [VectorType(2)]
        public float[] Noise { get; set; } = [];
    }
}
