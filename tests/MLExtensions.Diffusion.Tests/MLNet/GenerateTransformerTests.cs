using Microsoft.ML;
using Microsoft.ML.Data;
using MLExtensions.Diffusion.Likelihood;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.Onnx;
using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Samplers;
using MLExtensions.Diffusion.Tests.Onnx;
using MLExtensions.Diffusion.Thermodynamics;

namespace MLExtensions.Diffusion.Tests.MLNet;

/// <summary>
/// <see cref="GenerateTransformer"/> and the streaming <c>mlContext.Diffusion().Generate</c> on the shipped penguins
/// model (d = 4): every engine reproduces <see cref="DiffusionModel.GenerateFromNoise"/> for the same latents, seeds map
/// to <c>new Random(seed)</c> latents, cursors are independent across threads, and bad inputs fail naming the culprit.
/// </summary>
public class GenerateTransformerTests
{
    private const int Steps = 5;
    private static readonly string Models = Path.Combine(FindRepositoryRoot(), "models");
    private static readonly Lazy<DiffusionModel> Penguins = new(() => DiffusionModel.Load(Path.Combine(Models, "penguins", "model.zip")));
    private readonly MLContext _context = new(seed: 1);

    private sealed class LatentRow
    {
        [VectorType(4)]
        public float[] Noise { get; set; } = [];

        public int Id { get; set; }
    }

    private sealed class SeedRow
    {
        public int Seed { get; set; }
    }

    private sealed class LongSeedRow
    {
        public long Seed { get; set; }
    }

    private sealed class TextRow
    {
        public string Seed { get; set; } = "";
    }

    private static GenerateOptions Options(GenerateEngine engine = GenerateEngine.OnnxGraph, GenerateSamplerKind sampler = GenerateSamplerKind.Heun, int batch = 4096) => new()
    {
        InputColumnName = "Noise",
        Engine = engine,
        Sampler = sampler,
        Steps = Steps,
        BatchSize = batch,
        SessionSettings = OrtTestRunner.Settings,
    };

    private static ISampler SamplerOf(GenerateSamplerKind kind) => kind switch
    {
        GenerateSamplerKind.Euler => new EulerSampler(),
        GenerateSamplerKind.Ddim => new DdimSampler(),
        GenerateSamplerKind.DpmSolverPlusPlus2M => new DpmSolverPlusPlus2M(),
        _ => new HeunSampler(),
    };

    private IDataView Latents(float[] noise) =>
        _context.Data.LoadFromEnumerable(Enumerable.Range(0, noise.Length / 4)
            .Select(r => new LatentRow { Noise = noise.AsSpan(r * 4, 4).ToArray(), Id = r }).ToList());

    private static float[] Noise(int rows, int seed) => StandardNormal.Sample(new Random(seed), rows * 4).Select(v => (float)v).ToArray();

    private static float[] ReadGenerated(IDataView view, string column = GenerateOptions.DefaultOutputColumnName)
    {
        var col = view.Schema[column];
        int d = ((VectorDataViewType)col.Type).Size;
        var result = new List<float>();
        VBuffer<float> buffer = default;
        using var cursor = view.GetRowCursor([col]);
        var getter = cursor.GetGetter<VBuffer<float>>(col);
        while (cursor.MoveNext())
        {
            getter(ref buffer);
            Assert.Equal(d, buffer.Length);
            result.AddRange(buffer.DenseValues());
        }
        return result.ToArray();
    }

    private static void AssertClose(float[] expected, float[] actual, DiffusionModel model, double relative = 1e-4)
    {
        Assert.Equal(expected.Length, actual.Length);
        int d = model.Dimension;
        for (int i = 0; i < expected.Length; i++)
        {
            double tolerance = relative * model.FeatureScaler.Scale[i % d];
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"index {i}: expected {expected[i]}, got {actual[i]} (tolerance {tolerance:E2})");
        }
    }

    [Theory]
    [InlineData(GenerateSamplerKind.Heun)]
    [InlineData(GenerateSamplerKind.Euler)]
    [InlineData(GenerateSamplerKind.Ddim)]
    [InlineData(GenerateSamplerKind.DpmSolverPlusPlus2M)]
    public void OnnxGraph_EqualsGenerateFromNoise_ForTheSameNoise(GenerateSamplerKind sampler)
    {
        var model = Penguins.Value;
        var noise = Noise(300, 3);
        var expected = model.GenerateFromNoise(noise, SamplerOf(sampler), Steps);
        // Batch 128 over 300 rows: two full batches and a partial one.
        using var generator = _context.Diffusion().Generate(model, Options(sampler: sampler, batch: 128));
        AssertClose(expected, ReadGenerated(generator.Transform(Latents(noise))), model);
    }

    [Theory]
    [InlineData(GenerateEngine.OnnxHostLoop)]
    [InlineData(GenerateEngine.CSharp)]
    public void OtherEngines_EqualGenerateFromNoise(GenerateEngine engine)
    {
        var model = Penguins.Value;
        var noise = Noise(100, 5);
        var expected = model.GenerateFromNoise(noise, new HeunSampler(), Steps);
        using var generator = new GenerateTransformer(model, Options(engine, batch: 64));
        AssertClose(expected, ReadGenerated(generator.Transform(Latents(noise))), model);
    }

    [Fact]
    public void PassThroughColumns_StayAlignedWithTheirGeneratedRows()
    {
        var model = Penguins.Value;
        var noise = Noise(50, 6);
        var expected = model.GenerateFromNoise(noise, new HeunSampler(), Steps);
        using var generator = new GenerateTransformer(model, Options(batch: 16));
        var view = generator.Transform(Latents(noise));
        var id = view.Schema["Id"];
        var generated = view.Schema[GenerateOptions.DefaultOutputColumnName];
        using var cursor = view.GetRowCursor([id, generated]);
        var idGetter = cursor.GetGetter<int>(id);
        var rowGetter = cursor.GetGetter<VBuffer<float>>(generated);
        int rows = 0, value = 0;
        VBuffer<float> row = default;
        while (cursor.MoveNext())
        {
            idGetter(ref value);
            rowGetter(ref row);
            AssertClose(expected.AsSpan(value * 4, 4).ToArray(), row.DenseValues().ToArray(), model);
            rows++;
        }
        Assert.Equal(50, rows);
    }

    [Fact]
    public void SeedColumn_GivesTheRowsOfNewRandomSeedLatents_AndIsDeterministic()
    {
        var model = Penguins.Value;
        int[] seeds = [0, 1, 42, -7, 123456];
        var noise = new float[seeds.Length * 4];
        for (int r = 0; r < seeds.Length; r++)
        {
            var draw = StandardNormal.Sample(new Random(seeds[r]), 4);
            for (int j = 0; j < 4; j++) noise[r * 4 + j] = (float)draw[j];
        }
        var expected = model.GenerateFromNoise(noise, new HeunSampler(), Steps);
        var options = Options();
        options.InputColumnName = "Seed";
        using var generator = new GenerateTransformer(model, options);
        var view = generator.Transform(_context.Data.LoadFromEnumerable(seeds.Select(s => new SeedRow { Seed = s }).ToList()));
        var first = ReadGenerated(view);
        AssertClose(expected, first, model);
        Assert.Equal(first, ReadGenerated(view));

        // A long column folds s ^ (s >> 32) to an int: small non-negative longs give the int seed's rows.
        var longs = generator.Transform(_context.Data.LoadFromEnumerable(seeds.Where(s => s >= 0).Select(s => new LongSeedRow { Seed = s }).ToList()));
        var nonNegative = seeds.Select((s, r) => (s, r)).Where(p => p.s >= 0).SelectMany(p => first.AsSpan(p.r * 4, 4).ToArray()).ToArray();
        Assert.Equal(nonNegative, ReadGenerated(longs));
    }

    [Fact]
    public void ConcurrentTransformsAndCursorsFromFourThreads_GiveTheSerialResults()
    {
        var model = Penguins.Value;
        var inputs = Enumerable.Range(0, 4).Select(k => Noise(200 + 37 * k, 20 + k)).ToArray();
        foreach (var engine in new[] { GenerateEngine.OnnxGraph, GenerateEngine.OnnxHostLoop })
        {
            using var generator = new GenerateTransformer(model, Options(engine, batch: 64));
            var serial = inputs.Select(n => ReadGenerated(generator.Transform(Latents(n)))).ToArray();
            var parallel = new float[4][];
            using var start = new Barrier(4);
            var threads = Enumerable.Range(0, 4).Select(k => new Thread(() =>
            {
                start.SignalAndWait();
                for (int repeat = 0; repeat < 3; repeat++) parallel[k] = ReadGenerated(generator.Transform(Latents(inputs[k])));
            })).ToArray();
            foreach (var t in threads) t.Start();
            foreach (var t in threads) t.Join();
            for (int k = 0; k < 4; k++) Assert.Equal(serial[k], parallel[k]);
        }
    }

    [Fact]
    public void StreamingGenerate_50000Rows_HasTheCountAndTheRowsOfItsLatents_WhateverTheBatchSize()
    {
        var model = Penguins.Value;
        const int count = 50_000, head = 300;
        var options = Options(batch: 4096);
        var view = _context.Diffusion().Generate(model, count, seed: 9, options);
        Assert.Equal(count, view.GetRowCount());
        var generated = view.Schema[GenerateOptions.DefaultOutputColumnName];
        var rowColumn = view.Schema[GenerateTransformer.RowColumnName];
        var firstRows = new float[head * 4];
        // Rows 950-1249 straddle the graph engine's first chunk boundary (1024 rows for this width-128 network).
        const int windowStart = 950;
        var windowRows = new float[head * 4];
        long rows = 0, index = 0;
        VBuffer<float> buffer = default;
        using (var cursor = view.GetRowCursor([generated, rowColumn]))
        {
            var getter = cursor.GetGetter<VBuffer<float>>(generated);
            var rowGetter = cursor.GetGetter<long>(rowColumn);
            while (cursor.MoveNext())
            {
                rowGetter(ref index);
                Assert.Equal(rows, index);
                getter(ref buffer);
                Assert.True(buffer.DenseValues().All(float.IsFinite));
                if (rows < head) buffer.DenseValues().ToArray().CopyTo(firstRows, rows * 4);
                if (rows >= windowStart && rows < windowStart + head) buffer.DenseValues().ToArray().CopyTo(windowRows, (rows - windowStart) * 4);
                rows++;
            }
        }
        Assert.Equal(count, rows);

        // The first rows equal a direct call on their latents (a pure function of seed and row index).
        var latents = new float[head * 4];
        for (int r = 0; r < head; r++) GenerateTransformer.StreamLatent(9, r, latents.AsSpan(r * 4, 4));
        AssertClose(model.GenerateFromNoise(latents, new HeunSampler(), Steps), firstRows, model);
        for (int r = 0; r < head; r++) GenerateTransformer.StreamLatent(9, windowStart + r, latents.AsSpan(r * 4, 4));
        AssertClose(model.GenerateFromNoise(latents, new HeunSampler(), Steps), windowRows, model);

        // Another batch size gives the same rows; another seed other rows.
        var small = ReadGenerated(_context.Diffusion().Generate(model, head, seed: 9, Options(batch: 77)));
        Assert.Equal(firstRows, small);
        Assert.NotEqual(firstRows, ReadGenerated(_context.Diffusion().Generate(model, head, seed: 10, Options(batch: 77))));
        // Latents of a stream are standard normal: mean ~ 0, variance ~ 1 over 20 000 values.
        var many = new float[20_000];
        for (int r = 0; r < 5000; r++) GenerateTransformer.StreamLatent(3, r, many.AsSpan(r * 4, 4));
        Assert.InRange(many.Average(), -0.03, 0.03);
        Assert.InRange(many.Select(v => (double)v * v).Average(), 0.96, 1.04);
    }

    [Fact]
    public void ReadingOnlySomeRows_SkipsBatchesWithoutShiftingTheRowsThatAreRead()
    {
        var model = Penguins.Value;
        var options = Options(batch: 256);
        var view = _context.Diffusion().Generate(model, 1000, seed: 4, options);
        var all = ReadGenerated(view);
        var generated = view.Schema[GenerateOptions.DefaultOutputColumnName];
        VBuffer<float> buffer = default;
        var read = new List<long>();
        using (var cursor = view.GetRowCursor([generated]))
        {
            var getter = cursor.GetGetter<VBuffer<float>>(generated);
            while (cursor.MoveNext())
            {
                // Rows 0-2, then nothing until row 700 (batches 1 and 2 are read past, not generated), then every 97th row.
                long row = cursor.Position;
                if (row >= 3 && row < 700 || row >= 700 && row % 97 != 0) continue;
                getter(ref buffer);
                Assert.Equal(all.AsSpan((int)row * 4, 4).ToArray(), buffer.DenseValues().ToArray());
                read.Add(row);
            }
        }
        Assert.Equal(new long[] { 0, 1, 2, 776, 873, 970 }, read);
    }

    [Fact]
    public void PathThermodynamicsColumns_EqualTheEngineAlongTheSameHeunTrajectory()
    {
        var model = Penguins.Value;
        var noise = Noise(40, 8);
        var times = model.SamplingTimes(Steps);
        // Independent computation of the start x = m0 mean + sqrt(m0^2 scale^2 + sigma0^2) eps (standardised units).
        double m0 = model.Schedule.M(times[0]), s0 = model.Schedule.Sigma(times[0]), scale = model.Standardizer.Scale[0];
        double spread = Math.Sqrt(m0 * m0 * scale * scale + s0 * s0);
        var x = noise.Select((v, i) => m0 * model.Standardizer.Mean[i % 4] + spread * v).ToArray();
        var action = new double[40];
        var entropy = new double[40];
        PathThermodynamics.IntegrateHeun(model.Denoiser, model.Schedule, times, x, action, entropy);
        var expectedRows = model.GenerateFromNoise(noise, new HeunSampler(), Steps);
        foreach (var engine in new[] { GenerateEngine.OnnxGraph, GenerateEngine.CSharp })
        {
            var options = Options(engine, batch: 16);
            options.AttachPathThermodynamics = true;
            using var generator = new GenerateTransformer(model, options);
            var view = generator.Transform(Latents(noise));
            AssertClose(expectedRows, ReadGenerated(view), model);
            var a = view.GetColumn<float>(GenerateOptions.KineticActionColumnName).ToArray();
            var s = view.GetColumn<float>(GenerateOptions.EntropyProducedColumnName).ToArray();
            for (int r = 0; r < 40; r++)
            {
                Assert.True(action[r] > 0 && entropy[r] > 0);
                Assert.Equal(action[r], a[r], action[r] * 1e-6);
                Assert.Equal(entropy[r], s[r], entropy[r] * 1e-6);
            }
        }
    }

    [Fact]
    public void MissingColumn_WrongType_AndWrongVectorSize_FailNamingTheColumn()
    {
        var model = Penguins.Value;
        using var generator = new GenerateTransformer(model, Options());
        var missing = Assert.Throws<ArgumentException>(() => generator.Transform(_context.Data.LoadFromEnumerable(new[] { new SeedRow { Seed = 1 } })));
        Assert.Contains("'Noise'", missing.Message);
        Assert.Equal("input", missing.ParamName);

        var options = Options();
        options.InputColumnName = "Seed";
        using var text = new GenerateTransformer(model, options);
        var wrongType = Assert.Throws<ArgumentException>(() => text.Transform(_context.Data.LoadFromEnumerable(new[] { new TextRow { Seed = "x" } })));
        Assert.Contains("'Seed'", wrongType.Message);
        Assert.Contains("String", wrongType.Message);
        Assert.Throws<ArgumentException>(() => text.GetOutputSchema(_context.Data.LoadFromEnumerable(new[] { new TextRow() }).Schema));

        var twoWide = MLNetTestData.View(_context, [1f, 2f]);
        var wrongSizeOptions = Options();
        wrongSizeOptions.InputColumnName = "Features";
        using var sized = new GenerateTransformer(model, wrongSizeOptions);
        var wrongSize = Assert.Throws<ArgumentException>(() => sized.Transform(twoWide));
        Assert.Contains("'Features'", wrongSize.Message);
        Assert.Contains("2 values", wrongSize.Message);
    }

    [Fact]
    public void NonFiniteLatent_FailsNamingTheRow()
    {
        var noise = Noise(10, 1);
        noise[4 * 7 + 2] = float.NaN;
        using var generator = new GenerateTransformer(Penguins.Value, Options());
        var ex = Assert.Throws<ArgumentException>(() => ReadGenerated(generator.Transform(Latents(noise))));
        Assert.Contains("Row 7", ex.Message);
    }

    [Fact]
    public void InvalidOptions_AreRejectedNamingTheOption()
    {
        var model = Penguins.Value;
        Assert.Equal("Steps", Assert.Throws<ArgumentOutOfRangeException>(() => new GenerateTransformer(model, new GenerateOptions { Steps = 0 })).ParamName);
        Assert.Equal("BatchSize", Assert.Throws<ArgumentOutOfRangeException>(() => new GenerateTransformer(model, new GenerateOptions { BatchSize = 0 })).ParamName);
        Assert.Equal("OutputColumnName", Assert.Throws<ArgumentException>(() => new GenerateTransformer(model, new GenerateOptions { OutputColumnName = " " })).ParamName);
        Assert.Equal("Sampler", Assert.Throws<ArgumentOutOfRangeException>(() =>
            new GenerateTransformer(model, new GenerateOptions { Sampler = GenerateSamplerKind.Euler, AttachPathThermodynamics = true })).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => _context.Diffusion().Generate(model, 0, 1));
    }

    [Fact]
    public void ShippedSamplerFile_GeneratesTheModelsRows_AndBadFilesFailNamingTheFile()
    {
        var model = Penguins.Value;
        var noise = Noise(64, 12);
        string file = Path.Combine(Models, "penguins", "sampler.onnx");
        using (var generator = _context.Diffusion().GenerateFromSamplerOnnx(file, Options()))
        {
            Assert.Equal(4, generator.Dimension);
            Assert.Contains("sampler.onnx", generator.ModelName);
            // The shipped graph is Heun with 20 steps.
            AssertClose(model.GenerateFromNoise(noise, new HeunSampler(), 20), ReadGenerated(generator.Transform(Latents(noise))), model);
        }

        string folder = Path.Combine(Path.GetTempPath(), "generate-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            string corrupt = Path.Combine(folder, "corrupt.onnx");
            File.WriteAllBytes(corrupt, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
            var ex = Assert.Throws<InvalidDataException>(() => GenerateTransformer.LoadSamplerOnnx(corrupt, Options()));
            Assert.Contains(corrupt, ex.Message);

            // A valid ONNX file that is not a sampler: the network graph.
            string foreign = Path.Combine(folder, "network.onnx");
            File.Copy(Path.Combine(Models, "penguins", "network.onnx"), foreign);
            ex = Assert.Throws<InvalidDataException>(() => GenerateTransformer.LoadSamplerOnnx(foreign, Options()));
            Assert.Contains(foreign, ex.Message);
            Assert.Contains("noise", ex.Message);

            // The right kind of file with another dimension.
            ex = Assert.Throws<InvalidDataException>(() => GenerateTransformer.LoadSamplerOnnx(file, Options(), expectedDimension: 3));
            Assert.Contains(file, ex.Message);
            Assert.Throws<ArgumentException>(() => GenerateTransformer.LoadSamplerOnnx(file, Options(GenerateEngine.CSharp)));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void AutoProvider_ResolvesOnThisMachine_AndTheGeneratorWorks()
    {
        var model = Penguins.Value;
        var warnings = new List<string>();
        var options = Options();
        options.SessionSettings = new OnnxSessionSettings { ExecutionProvider = OnnxExecutionProvider.Auto, IntraOpThreads = 1, Warning = warnings.Add };
        using var generator = new GenerateTransformer(model, options);
        bool cuda = OnnxSessionFactory.AvailableProviders.Contains("CUDAExecutionProvider");
        if (!cuda)
        {
            Assert.Equal(OnnxExecutionProvider.Cpu, generator.ExecutionProvider);
            Assert.Single(warnings);
            Assert.Contains("CPU", warnings[0]);
        }
        else Assert.NotNull(generator.ExecutionProvider);
        var noise = Noise(32, 2);
        AssertClose(model.GenerateFromNoise(noise, new HeunSampler(), Steps), ReadGenerated(generator.Transform(Latents(noise))), model);
        using var csharp = new GenerateTransformer(model, Options(GenerateEngine.CSharp));
        Assert.Null(csharp.ExecutionProvider);
    }

    [Fact]
    public void NllColumn_EqualsTheLikelihoodTransformersNllOfTheGeneratedRows()
    {
        var model = Penguins.Value;
        var noise = Noise(40, 21);
        var likelihood = new LikelihoodTransformOptions { Steps = 8 };
        // Exact divergence: the NLL of a row does not depend on its batch, so the generator's batches of 16 must give
        // what the likelihood transformer gives for all 40 generated rows at once.
        using var scorer = new LikelihoodTransformer(model, likelihood);
        foreach (var engine in new[] { GenerateEngine.OnnxGraph, GenerateEngine.CSharp })
        {
            var options = Options(engine, batch: 16);
            options.AttachNll = true;
            options.AttachPathThermodynamics = engine == GenerateEngine.CSharp;   // the NLL column stays last and distinct
            options.Likelihood = likelihood;
            using var generator = new GenerateTransformer(model, options);
            var view = generator.Transform(Latents(noise));
            Assert.Equal(GenerateOptions.NllColumnName, view.Schema[view.Schema.Count - 1].Name);
            Assert.Equal(NumberDataViewType.Single, view.Schema[GenerateOptions.NllColumnName].Type);
            var rows = ReadGenerated(view);
            var nll = view.GetColumn<float>(GenerateOptions.NllColumnName).ToArray();
            var expected = scorer.Score(rows);
            Assert.Equal(40, nll.Length);
            for (int r = 0; r < 40; r++)
            {
                Assert.True(float.IsFinite(nll[r]), $"row {r}: NLL {nll[r]}");
                Assert.Equal(expected[r], nll[r], Math.Abs(expected[r]) * 1e-4);
            }
            if (options.AttachPathThermodynamics)
            {
                var action = view.GetColumn<float>(GenerateOptions.KineticActionColumnName).ToArray();
                Assert.All(action, a => Assert.True(a > 0));
                Assert.NotEqual(nll, action);
            }
        }
    }

    [Fact]
    public void NllColumn_OfTheStreamingGenerate_WithHutchinsonProbes_EqualsTheLikelihoodTransformOfItsRows()
    {
        // Hutchinson probes depend on the batch index: with the same batch size the generator and a LikelihoodTransformer
        // reading the generated column must use the same probes, hence give the same values.
        var model = Penguins.Value;
        var likelihood = new LikelihoodTransformOptions
        {
            Steps = 6, Divergence = DivergenceEstimator.Hutchinson, HutchinsonProbes = 2, Seed = 5,
            InputColumnName = GenerateOptions.DefaultOutputColumnName, OutputColumnName = "Reference", BatchSize = 8,
        };
        var options = new GenerateOptions { Steps = Steps, BatchSize = 8, AttachNll = true, Likelihood = likelihood, SessionSettings = OrtTestRunner.Settings };
        var view = _context.Diffusion().Generate(model, count: 20, seed: 3, options);
        using var scorer = new LikelihoodTransformer(model, likelihood);
        var scored = scorer.Transform(view);
        var nll = scored.GetColumn<float>(GenerateOptions.NllColumnName).ToArray();
        var reference = scored.GetColumn<float>("Reference").ToArray();
        Assert.Equal(20, nll.Length);
        for (int r = 0; r < 20; r++)
        {
            Assert.True(float.IsFinite(nll[r]));
            Assert.Equal(reference[r], nll[r], Math.Abs(reference[r]) * 1e-4);
        }
        // Another probe seed changes the estimate: the setting is honoured.
        options.Likelihood = new LikelihoodTransformOptions { Steps = 6, Divergence = DivergenceEstimator.Hutchinson, HutchinsonProbes = 2, Seed = 6 };
        var other = _context.Diffusion().Generate(model, count: 20, seed: 3, options).GetColumn<float>(GenerateOptions.NllColumnName).ToArray();
        Assert.NotEqual(nll, other);
    }

    [Fact]
    public void NllOptions_AreValidatedNamingTheOption_AndASamplerFileCannotAttachNll()
    {
        var model = Penguins.Value;
        var badSteps = new GenerateOptions { AttachNll = true, Likelihood = new LikelihoodTransformOptions { Steps = 0 } };
        var steps = Assert.Throws<ArgumentException>(badSteps.Validate);
        Assert.Equal("Likelihood.Steps", steps.ParamName);
        Assert.Contains("'Likelihood'", steps.Message);
        Assert.Equal("Likelihood.Steps", Assert.Throws<ArgumentException>(() => new GenerateTransformer(model, badSteps)).ParamName);
        badSteps.AttachNll = false;
        badSteps.Validate();   // the likelihood settings are read only when the column is attached

        var tMin = Assert.Throws<ArgumentException>(() => new GenerateTransformer(model,
            new GenerateOptions { Engine = GenerateEngine.CSharp, AttachNll = true, Likelihood = new LikelihoodTransformOptions { TMin = 1e6 } }));
        Assert.Equal("Likelihood.TMin", tMin.ParamName);

        var collision = Assert.Throws<ArgumentException>(() => new GenerateOptions { AttachNll = true, OutputColumnName = GenerateOptions.NllColumnName }.Validate());
        Assert.Equal("OutputColumnName", collision.ParamName);

        string file = Path.Combine(Models, "penguins", "sampler.onnx");
        var sampler = Assert.Throws<ArgumentException>(() => GenerateTransformer.LoadSamplerOnnx(file, new GenerateOptions { AttachNll = true }));
        Assert.Equal("options", sampler.ParamName);
        Assert.Contains("AttachNll", sampler.Message);

        // Clone copies the likelihood settings: later edits of the caller's object do not reach the generator.
        var options = Options(GenerateEngine.CSharp);
        options.AttachNll = true;
        options.Likelihood = new LikelihoodTransformOptions { Steps = 4 };
        using var generator = new GenerateTransformer(model, options);
        options.Likelihood.Steps = 0;
        Assert.Equal(4, generator.Options.Likelihood!.Steps);
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MLExtensions.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"MLExtensions.sln was not found above {AppContext.BaseDirectory}.");
    }
}
