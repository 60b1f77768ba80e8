using System.IO.Compression;
using System.Text.Json.Nodes;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.Onnx;
using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Samplers;

using MLExtensions.Diffusion.Tests.Onnx;

namespace MLExtensions.Diffusion.Tests.MLNet;

public sealed class DiffusionModelFixture : IDisposable
{
    public DiffusionModelFixture()
    {
        Context = new MLContext(seed: 2);
        var options = MLNetTestData.TinyOptions(200);
        options.Schedule = ScheduleKind.VpLinear;
        options.Residual = true;
        options.LayerNorm = true;
        options.Depth = 3;
        Model = Context.Diffusion().Trainers.ScoreMatching(options).Fit(MLNetTestData.View(Context, MLNetTestData.Mixture(200, 9)));
        ScaledModel = Context.Diffusion().Trainers.ScoreMatching(MLNetTestData.TinyOptions(400)).Fit(MLNetTestData.View(Context, ScaledData(600, 4)));
        Folder = Directory.CreateTempSubdirectory("mlx-diffusion-model-").FullName;
    }

    public MLContext Context { get; }

    public DiffusionModel Model { get; }

    /// <summary>A model trained (per-feature scaling) on <see cref="ScaledData"/>.</summary>
    public DiffusionModel ScaledModel { get; }

    /// <summary>Feature 0 on scale 1: an equal mixture of N(-1, 0.3^2) and N(1, 0.3^2) (mean 0, std sqrt(1.09));
    /// feature 1 on scale 1000: N(3000, 1000^2).</summary>
    public static float[] ScaledData(int rows, int seed)
    {
        var z = StandardNormal.Sample(new Random(seed), 2 * rows);
        var data = new float[2 * rows];
        for (int r = 0; r < rows; r++)
        {
            data[2 * r] = (float)((r % 2 == 0 ? -1 : 1) + 0.3 * z[2 * r]);
            data[2 * r + 1] = (float)(3000 + 1000 * z[2 * r + 1]);
        }
        return data;
    }

    public string Folder { get; }

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}

public class DiffusionModelTests(DiffusionModelFixture fixture) : IClassFixture<DiffusionModelFixture>
{
    private sealed class NoiseRow
    {
        [VectorType(2)]
        public float[] Noise { get; set; } = [];

        public int Id { get; set; }
    }

    private MLContext Context => fixture.Context;

    private DiffusionModel Model => fixture.Model;

    private string NewPath(string name) => Path.Combine(fixture.Folder, $"{Guid.NewGuid():N}-{name}");

    [Fact]
    public void Generate_IsDeterministicInTheSeed_AndMatchesGenerateFromNoise()
    {
        var a = Model.Generate(50, seed: 3);
        Assert.Equal(a, Model.Generate(50, seed: 3));
        Assert.NotEqual(a, Model.Generate(50, seed: 4));
        // The same latents by hand give the same rows: row i's latent is the stream latent (seed, i) (issue 10, item 8).
        var eps = new float[100];
        for (int r = 0; r < 50; r++) GenerateTransformer.StreamLatent(3, r, eps.AsSpan(2 * r, 2));
        var fromNoise = Model.GenerateFromNoise(eps);
        for (int i = 0; i < a.Length; i++) Assert.Equal(a[i], fromNoise[i], 4);
    }

    [Fact]
    public void Generate_RejectsBadArguments()
    {
        Assert.Equal("count", Assert.Throws<ArgumentOutOfRangeException>(() => Model.Generate(0, 1)).ParamName);
        Assert.Equal("steps", Assert.Throws<ArgumentOutOfRangeException>(() => Model.Generate(5, 1, steps: 0)).ParamName);
        Assert.Equal("noise", Assert.Throws<ArgumentException>(() => Model.GenerateFromNoise([1f, 2f, 3f])).ParamName);
        Assert.Equal("noise", Assert.Throws<ArgumentException>(() => Model.GenerateFromNoise([1f, float.NaN])).ParamName);
    }

    [Fact]
    public void SamplingTimes_DecreaseFromTheTopOfTheTrainedNoiseRangeToZero()
    {
        var times = Model.SamplingTimes(10);
        Assert.Equal(11, times.Length);
        Assert.Equal(0, times[^1]);
        // Log-normal training law ln(sigma/m) ~ N(-1.2, 1.2^2): the default grid starts at exp(-1.2 + 3.5 x 1.2) = exp(3).
        var o = Model.Options;
        double top = Math.Exp(o.LogNormalMean + 3.5 * o.LogNormalStandardDeviation);
        Assert.Equal(Math.Exp(3.0), top, 12);
        Assert.Equal(top, Model.TrainedNoiseLevelRange.High, 12);
        Assert.Equal(top, Model.Schedule.Sigma(times[0]) / Model.Schedule.M(times[0]), 1e-9 * top);
        for (int i = 1; i < times.Length; i++) Assert.True(times[i] < times[i - 1]);
        // The default plan is Heun on that grid with SamplingSteps steps.
        Assert.Equal(Model.SamplingTimes(o.SamplingSteps), Model.SamplingPlan.Times.ToArray());
        Assert.Equal(GenerateSamplerKind.Heun, Model.SamplingPlan.Sampler);
        Assert.Same(Model.Schedule, Model.SamplingPlan.Schedule);
    }

    [Fact]
    public void GenerateDataView_HasAFeaturesVectorColumnWithTheGeneratedRows()
    {
        var view = Model.GenerateDataView(7, seed: 1);
        var column = view.Schema["Features"];
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, 2), column.Type);
        Assert.Equal(7, view.GetRowCount());
        var rows = Context.Data.CreateEnumerable<MLNetTestData.VectorRow>(view, reuseRowObject: false).SelectMany(r => r.Features).ToArray();
        Assert.Equal(Model.Generate(7, seed: 1), rows);
    }

    [Fact]
    public void Transform_MapsTheNoiseColumnToGeneratedRows_KeepingInputColumns()
    {
        var eps = StandardNormal.Sample(new Random(8), 12).Select(v => (float)v).ToArray();
        var input = Context.Data.LoadFromEnumerable(Enumerable.Range(0, 6).Select(i => new NoiseRow { Noise = eps[(2 * i)..(2 * i + 2)], Id = 10 + i }).ToList());
        Assert.False(Model.IsRowToRowMapper);
        var output = Model.Transform(input);
        Assert.Equal(Model.GetOutputSchema(input.Schema).Select(c => c.Name), output.Schema.Select(c => c.Name));
        var generated = output.GetColumn<float[]>("Generated").SelectMany(v => v).ToArray();
        Assert.Equal(Model.GenerateFromNoise(eps, new HeunSampler(), Model.Options.SamplingSteps), generated);
        Assert.Equal(Enumerable.Range(10, 6), output.GetColumn<int>("Id"));
        Assert.Equal(eps, output.GetColumn<float[]>("Noise").SelectMany(v => v));
    }

    [Fact]
    public void Transform_WithoutANoiseColumn_GeneratesFromTheGenerationSeed_AndAWrongNoiseColumnIsNamed()
    {
        var data = MLNetTestData.View(Context, MLNetTestData.Mixture(5, 1));
        var generated = Model.Transform(data).GetColumn<float[]>("Generated").SelectMany(v => v).ToArray();
        Assert.Equal(Model.Generate(5, Model.Options.GenerationSeed, new HeunSampler(), Model.Options.SamplingSteps), generated);

        var wrongSize = Context.Data.LoadFromEnumerable(new[] { new WideNoiseRow { Noise = [1, 2, 3] } });
        var e = Assert.Throws<ArgumentException>(() => Model.Transform(wrongSize));
        Assert.Contains("'Noise'", e.Message, StringComparison.Ordinal);
        Assert.Contains("3 values", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheModelIsNotARowMapperNorSaveableThroughMLNet()
    {
        var data = MLNetTestData.View(Context, MLNetTestData.Mixture(4, 1));
        Assert.Throws<NotSupportedException>(() => Model.GetRowToRowMapper(data.Schema));
        var save = Assert.Throws<NotSupportedException>(() => Context.Model.Save(Model, data.Schema, NewPath("mlnet.zip")));
        Assert.Contains("DiffusionModel.Save(path)", save.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Pipeline_ConcatenateThenScoreMatching_FitsAndTransformsItsTrainingData()
    {
        var data = MLNetTestData.Mixture(60, 2);
        var view = Context.Data.LoadFromEnumerable(Enumerable.Range(0, 60).Select(r => new TwoColumns { A = data[2 * r], B = data[2 * r + 1] }).ToList());
        var options = MLNetTestData.TinyOptions(20);
        options.SamplingSteps = 4;
        var pipeline = Context.Transforms.Concatenate("Features", "A", "B").Append(Context.Diffusion().Trainers.ScoreMatching(options));
        var chain = pipeline.Fit(view);
        var model = chain.LastTransformer;
        Assert.Equal(60, model.Summary.Rows);
        var generated = chain.Transform(view).GetColumn<float[]>("Generated").ToArray();
        Assert.Equal(60, generated.Length);
        Assert.Equal(model.Generate(60, 0, new HeunSampler(), 4), generated.SelectMany(v => v));
    }

    private sealed class WideNoiseRow
    {
        [VectorType(3)]
        public float[] Noise { get; set; } = [];
    }

    private sealed class TwoColumns
    {
        public float A { get; set; }

        public float B { get; set; }
    }

    [Fact]
    public void SaveAndLoad_RoundTrip_GivesIdenticalModelAndSamples()
    {
        string path = NewPath("model.zip");
        Model.Save(path);
        var loaded = Context.Diffusion().LoadModel(path);
        Assert.Equal(Model.Denoiser.Network.Parameters, loaded.Denoiser.Network.Parameters);
        Assert.Equal(Model.Standardizer.Mean.ToArray(), loaded.Standardizer.Mean.ToArray());
        Assert.Equal(Model.Standardizer.Scale.ToArray(), loaded.Standardizer.Scale.ToArray());
        Assert.Equal(Model.FeatureScaler.Mean.ToArray(), loaded.FeatureScaler.Mean.ToArray());
        Assert.Equal(Model.FeatureScaler.Scale.ToArray(), loaded.FeatureScaler.Scale.ToArray());
        Assert.Equal(FeatureScaling.PerFeature, loaded.Options.FeatureScaling);
        Assert.Equal(Model.Schedule.ToString(), loaded.Schedule.ToString());
        Assert.Equal(Model.Denoiser.Parametrisation, loaded.Denoiser.Parametrisation);
        Assert.Equal(Model.Summary, loaded.Summary);
        Assert.Equal(Model.Options.Width, loaded.Options.Width);
        Assert.True(loaded.Options.Residual && loaded.Options.LayerNorm);
        Assert.Equal(Model.Generate(40, seed: 6), loaded.Generate(40, seed: 6));
        Assert.Equal(Model.Generate(40, seed: 6, new DdpmAncestralSampler(), 10), loaded.Generate(40, seed: 6, new DdpmAncestralSampler(), 10));
        // Overwriting leaves one file and no temporary files behind.
        loaded.Save(path);
        Assert.Single(Directory.GetFiles(fixture.Folder, $"*{Path.GetFileName(path)}*"));
        using var zip = ZipFile.OpenRead(path);
        Assert.Equal(DiffusionModelArchive.ReservedEntryNames.Order(), zip.Entries.Select(e => e.FullName).Order());
    }

    [Fact]
    public void Save_IntoAMissingFolder_ThrowsAndWritesNothing()
    {
        string folder = Path.Combine(fixture.Folder, Guid.NewGuid().ToString("N"));
        Assert.Throws<DirectoryNotFoundException>(() => Model.Save(Path.Combine(folder, "model.zip")));
        Assert.False(Directory.Exists(folder));
        Assert.Throws<ArgumentException>(() => Model.Save(" "));
    }

    [Fact]
    public void AdditionalEntries_RoundTrip_AndReservedNamesAreRefused()
    {
        string path = NewPath("extra.zip");
        byte[] graph = [1, 2, 3, 4, 5];
        const string name = "onnx/sampler-euler-5.onnx";
        DiffusionModelArchive.Save(Model, path, new Dictionary<string, byte[]> { [name] = graph });
        var loaded = DiffusionModel.Load(path);
        Assert.Equal(graph, loaded.AdditionalEntries[name]);
        string again = NewPath("extra-again.zip");
        loaded.Save(again);
        Assert.Equal(graph, DiffusionModel.Load(again).AdditionalEntries[name]);

        foreach (var bad in new[] { "manifest.json", DiffusionModelArchive.NetworkOnnxEntry, DiffusionModelArchive.SamplerOnnxEntry, "../x.onnx", "/abs.onnx", "a\\b", "" })
            Assert.Throws<ArgumentException>(() => DiffusionModelArchive.Save(Model, NewPath("bad.zip"), new Dictionary<string, byte[]> { [bad] = graph }));
    }

    [Fact]
    public void Load_GarbageTruncatedOrForeignFiles_ThrowInvalidDataNamingTheFile()
    {
        string garbage = NewPath("garbage.zip");
        File.WriteAllBytes(garbage, Enumerable.Range(0, 3000).Select(i => (byte)(i * 7919 % 251)).ToArray());
        AssertInvalid(garbage, null);

        string good = NewPath("good.zip");
        Model.Save(good);
        byte[] bytes = File.ReadAllBytes(good);
        string truncated = NewPath("truncated.zip");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        AssertInvalid(truncated, null);

        string foreign = NewPath("foreign.zip");
        using (var zip = ZipFile.Open(foreign, ZipArchiveMode.Create))
        using (var writer = new StreamWriter(zip.CreateEntry("readme.txt").Open()))
            writer.Write("not a model");
        AssertInvalid(foreign, "manifest.json");

        Assert.Throws<FileNotFoundException>(() => Context.Diffusion().LoadModel(NewPath("absent.zip")));
    }

    [Fact]
    public void Load_WrongFormatNewerVersionOrMismatchedEntries_ThrowInvalidData()
    {
        AssertInvalid(Edited("format.zip", "manifest.json", j => j["Format"] = "Something.Else"), "Something.Else");
        AssertInvalid(Edited("version.zip", "manifest.json", j => j["Version"] = DiffusionModelArchive.FormatVersion + 1), "newer");
        AssertInvalid(Edited("dimension.zip", "manifest.json", j => j["Dimension"] = 3), "dimension");
        AssertInvalid(Edited("count.zip", "manifest.json", j => j["ParameterCount"] = 17), "parameters");
        AssertInvalid(Edited("width.zip", "network.json", j => j["Width"] = 33), "parameters");
        AssertInvalid(Edited("scale.zip", "standardizer.json", j => j["Scale"] = new JsonArray(1.0)), "standardizer.json");
        AssertInvalid(Edited("scaler.zip", "feature-scaler.json", j => j["Scale"] = new JsonArray(1.0, 0.0)), "feature-scaler.json");
        AssertInvalid(Edited("options.zip", "options.json", j => j["Steps"] = 0), "Steps");

        string shortWeights = NewPath("weights.zip");
        Model.Save(shortWeights);
        using (var zip = ZipFile.Open(shortWeights, ZipArchiveMode.Update))
        {
            var entry = zip.GetEntry("network.bin")!;
            byte[] weights;
            using (var s = entry.Open()) { using var m = new MemoryStream(); s.CopyTo(m); weights = m.ToArray(); }
            entry.Delete();
            using var w = zip.CreateEntry("network.bin").Open();
            w.Write(weights.AsSpan(0, weights.Length - 8));
        }
        AssertInvalid(shortWeights, "network.bin");
    }

    [Fact]
    public void PerFeatureScaling_GeneratesFeaturesOnScales1And1000_WithTheirMeansAndStds()
    {
        var scaled = fixture.ScaledModel;
        Assert.Equal(FeatureScaling.PerFeature, scaled.Options.FeatureScaling);
        // The scaler holds the training split's per-feature moments; the engine's own standardiser is then ~ the identity.
        Assert.Equal(3000, scaled.FeatureScaler.Mean[1], 3000 * 0.05);
        Assert.Equal(1000, scaled.FeatureScaler.Scale[1], 1000 * 0.1);
        Assert.Equal(1, scaled.Standardizer.Scale[0], 1e-3);
        var rows = scaled.Generate(2000, seed: 8);
        double[] expectedMean = [0, 3000], expectedStd = [Math.Sqrt(1.09), 1000];
        for (int j = 0; j < 2; j++)
        {
            var column = Enumerable.Range(0, 2000).Select(r => (double)rows[2 * r + j]).ToArray();
            double mean = column.Average(), std = Math.Sqrt(column.Select(v => (v - mean) * (v - mean)).Average());
            Assert.True(Math.Abs(mean - expectedMean[j]) < 0.2 * expectedStd[j], $"feature {j}: mean {mean}, expected {expectedMean[j]}");
            Assert.True(Math.Abs(std / expectedStd[j] - 1) < 0.2, $"feature {j}: std {std}, expected {expectedStd[j]}");
        }
        // Contrast: without per-feature scaling, feature 0 sits ~1000 times below the common scale.
        var options = MLNetTestData.TinyOptions(400);
        options.FeatureScaling = FeatureScaling.Isotropic;
        var isotropic = Context.Diffusion().Trainers.ScoreMatching(options).Fit(MLNetTestData.View(Context, DiffusionModelFixture.ScaledData(600, 4)));
        var iso = isotropic.Generate(2000, seed: 8);
        var c0 = Enumerable.Range(0, 2000).Select(r => (double)iso[2 * r]).ToArray();
        double m0 = c0.Average(), s0 = Math.Sqrt(c0.Select(v => (v - m0) * (v - m0)).Average());
        Assert.True(s0 > 5 * expectedStd[0], $"isotropic feature 0: std {s0} (expected it far from {expectedStd[0]})");
    }

    [Fact]
    public void SaveAndLoad_KeepsTheFeatureScaler_AndWritesOnnxGraphsThatReproduceGenerateFromNoise()
    {
        var scaled = fixture.ScaledModel;
        string path = NewPath("scaled.zip");
        scaled.Save(path);
        var loaded = Context.Diffusion().LoadModel(path);
        Assert.Equal(scaled.FeatureScaler.Mean.ToArray(), loaded.FeatureScaler.Mean.ToArray());
        Assert.Equal(scaled.FeatureScaler.Scale.ToArray(), loaded.FeatureScaler.Scale.ToArray());
        Assert.Equal(scaled.Generate(30, seed: 2), loaded.Generate(30, seed: 2));
        Assert.Empty(loaded.AdditionalEntries);

        const int rows = 64;
        var noise = StandardNormal.Sample(new Random(12), rows * 2).Select(v => (float)v).ToArray();
        var expected = scaled.GenerateFromNoise(noise);
        byte[] fromZip;
        using (var zip = ZipFile.OpenRead(path))
        using (var stream = zip.GetEntry(DiffusionModelArchive.SamplerOnnxEntry)!.Open())
        using (var copy = new MemoryStream())
        {
            stream.CopyTo(copy);
            fromZip = copy.ToArray();
        }
        foreach (var graph in new[] { scaled.ExportSamplerOnnx().Model.ToBytes(), fromZip })
        {
            using var session = OnnxSessionFactory.Create(graph, OrtTestRunner.Settings);
            var (samples, shape) = OrtTestRunner.Run(session, SamplerGraphCompiler.OutputSamples, (SamplerGraphCompiler.InputNoise, noise, [rows, 2]));
            Assert.Equal([rows, 2L], shape);
            for (int i = 0; i < samples.Length; i++)
            {
                double tolerance = 1e-4 * scaled.FeatureScaler.Scale[i % 2];
                Assert.True(Math.Abs(samples[i] - expected[i]) <= tolerance, $"index {i}: ONNX {samples[i]}, C# {expected[i]}, tolerance {tolerance}");
            }
        }
        using var network = OnnxSessionFactory.Create(scaled.ExportNetworkOnnx(), OrtTestRunner.Settings);
        Assert.Equal(new[] { NetworkOnnxExporter.InputX, NetworkOnnxExporter.InputM, NetworkOnnxExporter.InputSigma }.Order(StringComparer.Ordinal),
            network.InputMetadata.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void ExportSamplerOnnx_DdimAndDdpm_MatchGenerateFromNoise_AndBadStepsAreRejected()
    {
        var scaled = fixture.ScaledModel;
        var noise = StandardNormal.Sample(new Random(5), 16 * 2).Select(v => (float)v).ToArray();
        var expected = scaled.GenerateFromNoise(noise, new DdimSampler(0), steps: 7);
        var graph = scaled.ExportSamplerOnnx(new DdimSampler(0), steps: 7);
        Assert.Equal(7, graph.Steps);
        var (samples, _) = OrtTestRunner.Run(graph.Model, SamplerGraphCompiler.OutputSamples, (SamplerGraphCompiler.InputNoise, noise, [16, 2]));
        for (int i = 0; i < samples.Length; i++)
            Assert.True(Math.Abs(samples[i] - expected[i]) <= 1e-4 * scaled.FeatureScaler.Scale[i % 2], $"index {i}: ONNX {samples[i]}, C# {expected[i]}");
        Assert.Throws<ArgumentOutOfRangeException>(() => scaled.ExportSamplerOnnx(steps: 0));

        // A stochastic sampler: the step noise drawn from the same seed reproduces GenerateFromNoise(noise, ddpm, steps, seed).
        var ddpm = scaled.ExportSamplerOnnx(new DdpmAncestralSampler(), steps: 6);
        Assert.True(ddpm.IsStochastic);
        var stepNoise = new float[ddpm.NoiseDraws * 16 * 2];
        ddpm.FillStepNoise(new Random(21), 16, stepNoise);
        var (stochastic, _) = OrtTestRunner.Run(ddpm.Model, SamplerGraphCompiler.OutputSamples, (SamplerGraphCompiler.InputNoise, noise, [16, 2]),
            (SamplerGraphCompiler.InputStepNoise, stepNoise, [ddpm.NoiseDraws, 16, 2]));
        var reference = scaled.GenerateFromNoise(noise, new DdpmAncestralSampler(), steps: 6, seed: 21);
        for (int i = 0; i < stochastic.Length; i++)
            Assert.True(Math.Abs(stochastic[i] - reference[i]) <= 1e-4 * scaled.FeatureScaler.Scale[i % 2], $"DDPM index {i}: ONNX {stochastic[i]}, C# {reference[i]}");
    }

    [Fact]
    public void Load_Version1File_GetsTheIdentityScalerAndIsotropicScaling_AndDropsItsOnnxEntries()
    {
        string path = NewPath("v1.zip");
        fixture.ScaledModel.Save(path);
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Update))
        {
            zip.GetEntry("feature-scaler.json")!.Delete();
            zip.GetEntry(DiffusionModelArchive.SamplingPlanEntry)!.Delete();
            // Versions 1 and 2 wrote the schedule family and its parameters.
            zip.GetEntry("schedule.json")!.Delete();
            using (var schedule = new StreamWriter(zip.CreateEntry("schedule.json").Open()))
                schedule.Write("""{"Kind":"Cosine","Name":"cosine","Tau":1,"EndCutoff":0.001,"VpBetaMin":0.1,"VpBetaMax":20,"VpCosineOffset":0.008,"VeSigmaMax":80,"MaxTime":0.999}""");
            var entry = zip.GetEntry("manifest.json")!;
            JsonObject json;
            using (var reader = new StreamReader(entry.Open())) json = JsonNode.Parse(reader.ReadToEnd())!.AsObject();
            json["Version"] = 1;
            // A version-1 writer stored ONNX graphs as additional entries.
            json["AdditionalEntries"] = new JsonArray(DiffusionModelArchive.NetworkOnnxEntry);
            entry.Delete();
            using var writer = new StreamWriter(zip.CreateEntry("manifest.json").Open());
            writer.Write(json.ToJsonString());
        }
        var loaded = Context.Diffusion().LoadModel(path);
        Assert.Equal(FeatureScaling.Isotropic, loaded.Options.FeatureScaling);
        Assert.Equal([0.0, 0.0], loaded.FeatureScaler.Mean.ToArray());
        Assert.Equal([1.0, 1.0], loaded.FeatureScaler.Scale.ToArray());
        Assert.Empty(loaded.AdditionalEntries);
        // Same engine, no de-standardisation: its rows are the scaled model's rows in standardised units.
        var data = fixture.ScaledModel.Generate(20, seed: 5);
        var raw = loaded.Generate(20, seed: 5);
        for (int i = 0; i < raw.Length; i++)
        {
            double z = (data[i] - fixture.ScaledModel.FeatureScaler.Mean[i % 2]) / fixture.ScaledModel.FeatureScaler.Scale[i % 2];
            Assert.Equal(z, raw[i], 1e-4);
        }
        // Saved again, it is a current-version file.
        string again = NewPath("v1-again.zip");
        loaded.Save(again);
        Assert.Equal(FeatureScaling.Isotropic, Context.Diffusion().LoadModel(again).Options.FeatureScaling);
    }

    private string Edited(string name, string entryName, Action<JsonObject> edit)
    {
        string path = NewPath(name);
        Model.Save(path);
        using var zip = ZipFile.Open(path, ZipArchiveMode.Update);
        var entry = zip.GetEntry(entryName)!;
        JsonObject json;
        using (var reader = new StreamReader(entry.Open())) json = JsonNode.Parse(reader.ReadToEnd())!.AsObject();
        edit(json);
        entry.Delete();
        using var writer = new StreamWriter(zip.CreateEntry(entryName).Open());
        writer.Write(json.ToJsonString());
        return path;
    }

    private void AssertInvalid(string path, string? mentions)
    {
        var e = Assert.Throws<InvalidDataException>(() => Context.Diffusion().LoadModel(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        if (mentions is not null) Assert.Contains(mentions, e.Message, StringComparison.Ordinal);
    }
}
