using Microsoft.ML;
using Microsoft.ML.Data;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Tests.Onnx;
using Xunit;

namespace MLExtensions.Diffusion.Tests.MLNet;

/// <summary>Declared and inferred bounds (<see cref="FeatureBound"/>, <see cref="FeatureEncoding"/>): generated rows respect
/// them on every path, the model file keeps them, and the likelihood in data units carries the transform's Jacobian.</summary>
public sealed class BoundedFeatureTests
{
    private readonly MLContext _context = new(seed: 1);

    /// <summary>Feature 0: 0 with probability 0.4, else 2 Exp(1) (rain-like, a spike at the bound); feature 1:
    /// sigmoid(N(0.5, 1.2^2)), in (0, 1).</summary>
    internal static float[] RainAndFraction(int rows, int seed)
    {
        var random = new Random(seed);
        var z = StandardNormal.Sample(random, rows);
        var data = new float[rows * 2];
        for (int r = 0; r < rows; r++)
        {
            data[2 * r] = random.NextDouble() < 0.4 ? 0f : (float)(-2 * Math.Log(1 - random.NextDouble()));
            data[2 * r + 1] = (float)(1 / (1 + Math.Exp(-(0.5 + 1.2 * z[r]))));
        }
        return data;
    }

    private static ScoreMatchingOptions Bounded(bool declare = true)
    {
        var o = MLNetTestData.TinyOptions(400);
        if (declare) o.FeatureBounds = [new FeatureBound(0, Lower: 0), new FeatureBound(1, Lower: 0, Upper: 1)];
        return o;
    }

    private DiffusionModel Train(ScoreMatchingOptions options, float[] data) =>
        _context.Diffusion().Trainers.ScoreMatching(options).Fit(MLNetTestData.View(_context, data));

    [Fact]
    public void Unbounded_Model_GeneratesNegativeRain_TheProblemTheBoundsSolve()
    {
        var model = Train(Bounded(declare: false), RainAndFraction(600, 1));
        var rows = model.Generate(2000, seed: 3);
        Assert.Contains(Enumerable.Range(0, 2000), r => rows[2 * r] < 0);
    }

    [Fact]
    public void DeclaredBounds_Generate_RespectsThemExactly_AndReproducesTheSpike()
    {
        var model = Train(Bounded(), RainAndFraction(600, 1));
        Assert.Equal(FeatureTransformKind.LowerSoftplus, model.FeatureEncoding.TransformKind(0));
        Assert.Equal(FeatureTransformKind.Logit, model.FeatureEncoding.TransformKind(1));
        var rows = model.Generate(2000, seed: 3);
        int zeros = 0;
        for (int r = 0; r < 2000; r++)
        {
            Assert.True(rows[2 * r] >= 0, $"row {r}: rain {rows[2 * r]}");
            if (rows[2 * r] == 0) zeros++;
            Assert.True(rows[2 * r + 1] > 0 && rows[2 * r + 1] < 1, $"row {r}: fraction {rows[2 * r + 1]}");
        }
        // 40 % of the training rows are exactly 0; the spike comes back as exact zeros in roughly that share.
        Assert.InRange(zeros / 2000.0, 0.2, 0.6);
    }

    [Theory]
    [InlineData(GenerateEngine.OnnxGraph)]
    [InlineData(GenerateEngine.OnnxHostLoop)]
    [InlineData(GenerateEngine.CSharp)]
    public void GenerateTransformer_Engines_ApplyTheInverseTransforms(GenerateEngine engine)
    {
        var model = Train(Bounded(), RainAndFraction(600, 1));
        var view = _context.Diffusion().Generate(model, 500, seed: 4, new GenerateOptions { Engine = engine, SessionSettings = OrtTestRunner.Settings });
        var rows = view.GetColumn<float[]>(GenerateOptions.DefaultOutputColumnName).SelectMany(v => v).ToArray();
        Assert.Equal(1000, rows.Length);
        for (int r = 0; r < 500; r++)
        {
            Assert.True(rows[2 * r] >= 0, $"{engine} row {r}: rain {rows[2 * r]}");
            Assert.True(rows[2 * r + 1] > 0 && rows[2 * r + 1] < 1, $"{engine} row {r}: fraction {rows[2 * r + 1]}");
        }
        // Row i of the view is the model's own sample from the same latent (decoded the same way).
        var latent = new float[2];
        GenerateTransformer.StreamLatent(4, 7, latent);
        var expected = model.GenerateFromNoise(latent);
        Assert.Equal(expected[0], rows[14], 3e-3f);
        Assert.Equal(expected[1], rows[15], 3e-3f);
    }

    private sealed class SeedRow
    {
        public int Seed { get; set; }
    }

    private sealed class GeneratedRow
    {
        [VectorType(2)]
        public float[] Generated { get; set; } = [];
    }

    [Fact]
    public void APredictionEngine_AppliesTheInverseTransforms_LikeTheBatchTransform()
    {
        var model = Train(Bounded(), RainAndFraction(600, 1));
        using var generator = new GenerateTransformer(model, new GenerateOptions { InputColumnName = "Seed", SessionSettings = OrtTestRunner.Settings });
        var seeds = Enumerable.Range(0, 200).Select(s => new SeedRow { Seed = s }).ToList();
        var batch = _context.Data.CreateEnumerable<GeneratedRow>(generator.Transform(_context.Data.LoadFromEnumerable(seeds)), reuseRowObject: false).ToList();
        using var engine = _context.Model.CreatePredictionEngine<SeedRow, GeneratedRow>(generator);
        for (int r = 0; r < seeds.Count; r++)
        {
            float[] single = engine.Predict(seeds[r]).Generated;
            Assert.Equal(batch[r].Generated, single);
            Assert.True(single[0] >= 0 && single[1] > 0 && single[1] < 1, $"seed {r}: ({single[0]}, {single[1]})");
        }
    }

    [Fact]
    public void InferBounds_GivesTheSpikyNonNegativeFeatureLowerBoundZero_Only()
    {
        var o = Bounded(declare: false);
        o.InferBounds = true;
        var model = Train(o, RainAndFraction(600, 1));
        Assert.Equal(FeatureTransformKind.LowerSoftplus, model.FeatureEncoding.TransformKind(0));
        Assert.Equal((0.0, (double?)null), model.FeatureEncoding.Bounds(0));
        // The fraction has no zeros: no bound is inferred for it.
        Assert.Equal(FeatureTransformKind.Identity, model.FeatureEncoding.TransformKind(1));
        var rows = model.Generate(1000, seed: 5);
        for (int r = 0; r < 1000; r++) Assert.True(rows[2 * r] >= 0);
    }

    [Fact]
    public void SaveLoad_KeepsTheTransforms()
    {
        var model = Train(Bounded(), RainAndFraction(600, 1));
        string path = Path.Combine(Path.GetTempPath(), $"bounded-{Guid.NewGuid():N}.zip");
        try
        {
            model.Save(path);
            var again = _context.Diffusion().LoadModel(path);
            Assert.Equal(FeatureTransformKind.Logit, again.FeatureEncoding.TransformKind(1));
            Assert.Equal(model.FeatureEncoding.Bounds(1), again.FeatureEncoding.Bounds(1));
            Assert.Equal(model.Generate(300, seed: 6), again.Generate(300, seed: 6));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Load_OfACorruptFeatureEncoding_IsInvalidData_NamingTheEntry()
    {
        var model = Train(Bounded(), RainAndFraction(200, 1));
        string path = Path.Combine(Path.GetTempPath(), $"bounded-corrupt-{Guid.NewGuid():N}.zip");
        try
        {
            model.Save(path);
            using (var zip = System.IO.Compression.ZipFile.Open(path, System.IO.Compression.ZipArchiveMode.Update))
            {
                var entry = zip.GetEntry(DiffusionModelArchive.FeatureEncodingEntry)!;
                string json;
                using (var reader = new StreamReader(entry.Open())) json = reader.ReadToEnd();
                entry.Delete();
                // feature 1 is Logit: dropping its upper bound makes kind and bounds disagree
                int logit = json.IndexOf("\"Logit\"", StringComparison.Ordinal);
                int upper = json.IndexOf("\"Upper\": 1", logit, StringComparison.Ordinal);
                Assert.True(logit > 0 && upper > logit);
                json = json[..upper] + "\"Upper\": null" + json[(upper + "\"Upper\": 1".Length)..];
                using var writer = new StreamWriter(zip.CreateEntry(DiffusionModelArchive.FeatureEncodingEntry).Open());
                writer.Write(json);
            }
            var e = Assert.Throws<InvalidDataException>(() => _context.Diffusion().LoadModel(path));
            Assert.Contains(DiffusionModelArchive.FeatureEncodingEntry, e.Message);
            Assert.Contains(path, e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Decode_OfExtremeLatents_StaysWithinTheBounds()
    {
        // no training value at the bounds of feature 1 (open interval), a spike at 0 in feature 0 (closed there)
        var encoding = FeatureEncoding.Fit(RainAndFraction(300, 5), 2, Bounded());
        float[] u = [-1e30f, -1e30f, 1e30f, 1e30f, float.NegativeInfinity, float.NegativeInfinity, 0, 0, -40, 40];
        encoding.Decode(u);
        for (int r = 0; r < 5; r++)
        {
            Assert.True(u[2 * r] >= 0, $"row {r}: {u[2 * r]}");
            Assert.True(u[2 * r + 1] > 0 && u[2 * r + 1] < 1, $"row {r}: {u[2 * r + 1]}");
        }
        Assert.Equal(0f, u[0]);   // far below the spike: the bound itself
    }

    [Fact]
    public void OutOfBoundTrainingValue_IsAnArgumentException_NamingTheOption()
    {
        var data = RainAndFraction(100, 2);
        data[2 * 17] = -0.5f;
        var e = Assert.Throws<ArgumentException>(() => Train(Bounded(), data));
        Assert.Equal(nameof(ScoreMatchingOptions.FeatureBounds), e.ParamName);
        Assert.Contains("Row 17", e.Message);
        var bad = Bounded();
        bad.FeatureBounds = [new FeatureBound(5, Lower: 0)];
        Assert.Equal(nameof(ScoreMatchingOptions.FeatureBounds), Assert.Throws<ArgumentException>(() => Train(bad, RainAndFraction(100, 2))).ParamName);
        bad.FeatureBounds = [new FeatureBound(0, Lower: 1, Upper: 0)];
        Assert.Equal(nameof(ScoreMatchingOptions.FeatureBounds), Assert.Throws<ArgumentException>(bad.Validate).ParamName);
    }

    [Theory]
    [InlineData(LowerBoundTransform.Softplus, FeatureScaling.PerFeature)]
    [InlineData(LowerBoundTransform.Log, FeatureScaling.PerFeature)]
    [InlineData(LowerBoundTransform.Softplus, FeatureScaling.QuantileNormal)]
    public void LogJacobian_MatchesFiniteDifferencesOfEncode(LowerBoundTransform lower, FeatureScaling scaling)
    {
        var data = RainAndFraction(400, 3);
        var o = Bounded();
        o.LowerBoundTransform = lower;
        o.FeatureScaling = scaling;
        var encoding = FeatureEncoding.Fit(data, 2, o);
        foreach (var (y0, y1) in new[] { (0.37f, 0.21f), (2.9f, 0.77f), (0.05f, 0.5f), (6.3f, 0.03f) })
        {
            double fd = 0;
            foreach (var (j, y) in new[] { (0, (double)y0), (1, (double)y1) })
            {
                double h = 1e-4 * Math.Max(1e-2, Math.Min(y, j == 1 ? 1 - y : y));
                fd += Math.Log((EncodeOne(encoding, j, y + h, y0, y1) - EncodeOne(encoding, j, y - h, y0, y1)) / (2 * h));
            }
            Assert.Equal(fd, encoding.LogJacobian([y0, y1]), 2e-3);
        }
    }

    [Fact]
    public void Likelihood_InDataUnits_IsTheUUnitsLikelihoodMinusTheFiniteDifferenceLogJacobian()
    {
        var model = Train(Bounded(), RainAndFraction(600, 1));
        // The same network and scaler without the encoding: its NLL of encoded rows is the NLL in u units.
        var plain = new DiffusionModel(model.Denoiser, model.Schedule, model.FeatureScaler, model.Options, model.Summary);
        float[] rows = [0.8f, 0.3f, 3.1f, 0.9f, 0.02f, 0.55f];
        var u = new double[rows.Length];
        model.FeatureEncoding.Encode(rows, u);
        using var bounded = new LikelihoodTransformer(model);
        using var unbounded = new LikelihoodTransformer(plain);
        var nllY = bounded.Score(rows);
        var nllU = unbounded.Score(u.Select(v => (float)v).ToArray());
        for (int r = 0; r < 3; r++)
        {
            double logJacobian = 0;
            for (int j = 0; j < 2; j++)
            {
                double y = rows[2 * r + j], h = 1e-4 * Math.Min(y, j == 1 ? 1 - y : 1);
                logJacobian += Math.Log((EncodeOne(model.FeatureEncoding, j, y + h, rows[2 * r], rows[2 * r + 1])
                    - EncodeOne(model.FeatureEncoding, j, y - h, rows[2 * r], rows[2 * r + 1])) / (2 * h));
            }
            Assert.Equal(nllU[r] - logJacobian, nllY[r], 1e-2);
        }
    }

    /// <summary>u_j of the row (y0, y1) with feature j replaced by <paramref name="value"/> (in double, no float rounding).</summary>
    private static double EncodeOne(FeatureEncoding encoding, int j, double value, float y0, float y1)
    {
        // Encode takes floats; difference quotients need double steps, so encode the two neighbours through the public
        // per-row API on rows whose feature j is exactly representable: use a linear interpolation in float space.
        float lowF = (float)value, highF = MathF.BitIncrement(lowF);
        if (lowF > value) (lowF, highF) = (MathF.BitDecrement(lowF), lowF);
        var row = new[] { y0, y1 };
        var ua = new double[2];
        var ub = new double[2];
        row[j] = lowF;
        encoding.Encode(row, ua);
        row[j] = highF;
        encoding.Encode(row, ub);
        double t = (value - lowF) / ((double)highF - lowF);
        return ua[j] + t * (ub[j] - ua[j]);
    }
}
