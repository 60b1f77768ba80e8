using Microsoft.ML;
using Microsoft.ML.Data;
using MLExtensions.Diffusion.Likelihood;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.Tests.Onnx;

namespace MLExtensions.Diffusion.Tests.MLNet;

/// <summary>
/// ML.NET's row-to-row mapping (issue 10, item 13): <c>CreatePredictionEngine</c> over the NLL transformer (alone and in a
/// fitted chain) and over seeded or latent generation scores one record at a time and agrees with the batched
/// <c>Transform</c> on the same rows. Rows are integrated independently in both (fixed grids; a row's latent depends only
/// on its seed), and on these engines a row's arithmetic does not depend on the batch it is in, so the values are
/// bit-identical and the tests require equality. Against <see cref="DiffusionModel.GenerateFromNoise"/> (double state) the
/// ONNX graph (float32 state) differs by float rounding, hence a tolerance of 1e-4 of each feature's scale there.
/// </summary>
public class RowToRowMapperTests
{
    private readonly MLContext _context = new(seed: 1);

    public sealed class NllOutput
    {
        public float NLL { get; set; }
    }

    public sealed class Measurements
    {
        public float BeakLength { get; set; }
        public float BeakDepth { get; set; }
        public float FlipperLength { get; set; }
        public float BodyMass { get; set; }
    }

    public sealed class SeedRow
    {
        public int Seed { get; set; }
    }

    public sealed class LatentRow
    {
        [VectorType(4)]
        public float[] Noise { get; set; } = [];
    }

    public sealed class GeneratedRow
    {
        [VectorType(4)]
        public float[] Generated { get; set; } = [];
    }

    private static float[] BatchNll(ITransformer transformer, IDataView rows) =>
        transformer.Transform(rows).GetColumn<float>(LikelihoodTransformOptions.DefaultOutputColumnName).ToArray();

    private static LikelihoodTransformOptions NllOptions(DivergenceEstimator divergence = DivergenceEstimator.Exact) =>
        new() { Steps = 16, BatchSize = 32, Divergence = divergence, HutchinsonProbes = 2, Seed = 5 };

    [Fact]
    public void APredictionEngineScoresOneRecordAtATimeAsTheBatchTransformDoes()
    {
        float[] held = PenguinsTestData.HeldOut.AsSpan(0, 40 * 4).ToArray();
        var rows = PenguinsTestData.View(_context, held);
        using var nll = new LikelihoodTransformer(PenguinsTestData.Model, NllOptions());
        Assert.True(nll.IsRowToRowMapper);
        float[] batch = BatchNll(nll, rows);

        using var engine = _context.Model.CreatePredictionEngine<PenguinsTestData.Row, NllOutput>(nll);
        for (int r = 0; r < batch.Length; r++)
        {
            float single = engine.Predict(new PenguinsTestData.Row { Features = held.AsSpan(r * 4, 4).ToArray(), Id = r }).NLL;
            Assert.Equal(batch[r], single);
        }
        float spread = batch.Max() - batch.Min();
        Assert.True(spread > 1, $"the rows' NLLs differ (spread {spread}), so agreement is not trivial");
    }

    [Fact]
    public void AFittedChainWithTheNllTransformerServesAPredictionEngine()
    {
        float[] held = PenguinsTestData.HeldOut.AsSpan(0, 12 * 4).ToArray();
        var records = Enumerable.Range(0, 12).Select(r => new Measurements
        {
            BeakLength = held[4 * r], BeakDepth = held[4 * r + 1], FlipperLength = held[4 * r + 2], BodyMass = held[4 * r + 3],
        }).ToList();
        var data = _context.Data.LoadFromEnumerable(records);
        var chain = _context.Transforms.Concatenate("Features",
                nameof(Measurements.BeakLength), nameof(Measurements.BeakDepth), nameof(Measurements.FlipperLength), nameof(Measurements.BodyMass))
            .Append(_context.Diffusion().NegativeLogLikelihood(PenguinsTestData.Model, NllOptions()))
            .Fit(data);
        float[] batch = BatchNll(chain, data);

        using var engine = _context.Model.CreatePredictionEngine<Measurements, NllOutput>(chain);
        for (int r = 0; r < records.Count; r++) Assert.Equal(batch[r], engine.Predict(records[r]).NLL);
    }

    [Fact]
    public void HutchinsonScoresAreDeterministicPerRow()
    {
        float[] held = PenguinsTestData.HeldOut.AsSpan(0, 5 * 4).ToArray();
        using var nll = new LikelihoodTransformer(PenguinsTestData.Model, NllOptions(DivergenceEstimator.Hutchinson));
        using var engine = _context.Model.CreatePredictionEngine<PenguinsTestData.Row, NllOutput>(nll);
        for (int r = 0; r < 5; r++)
        {
            var record = new PenguinsTestData.Row { Features = held.AsSpan(r * 4, 4).ToArray() };
            float first = engine.Predict(record).NLL;
            Assert.Equal((float)nll.Score(record.Features, seed: 5)[0], first);
            Assert.Equal(first, engine.Predict(record).NLL);
        }
    }

    [Theory]
    [InlineData(GenerateEngine.OnnxGraph)]
    [InlineData(GenerateEngine.CSharp)]
    public void SeededGenerationByAPredictionEngineMatchesTheBatchTransform(GenerateEngine engineKind)
    {
        var model = PenguinsTestData.Model;
        using var generator = new GenerateTransformer(model, new GenerateOptions
        {
            InputColumnName = "Seed", Engine = engineKind, Steps = 4, BatchSize = 64, SessionSettings = OrtTestRunner.Settings,
        });
        Assert.True(generator.IsRowToRowMapper);
        var seeds = Enumerable.Range(100, 10).Select(s => new SeedRow { Seed = s }).ToList();
        var batch = _context.Data.CreateEnumerable<GeneratedRow>(generator.Transform(_context.Data.LoadFromEnumerable(seeds)), reuseRowObject: false).ToList();

        using var engine = _context.Model.CreatePredictionEngine<SeedRow, GeneratedRow>(generator);
        for (int r = 0; r < seeds.Count; r++)
        {
            float[] single = engine.Predict(seeds[r]).Generated;
            Assert.Equal(batch[r].Generated, single);
        }
        Assert.NotEqual(batch[0].Generated, batch[1].Generated);
    }

    [Fact]
    public void LatentGenerationByAPredictionEngineMatchesGenerateFromNoise()
    {
        var model = PenguinsTestData.Model;
        using var generator = new GenerateTransformer(model, new GenerateOptions { InputColumnName = "Noise", SessionSettings = OrtTestRunner.Settings });
        float[] noise = OrtTestRunner.Normal(new Random(3), 6 * 4);
        float[] expected = model.GenerateFromNoise(noise);
        using var engine = _context.Model.CreatePredictionEngine<LatentRow, GeneratedRow>(generator);
        for (int r = 0; r < 6; r++)
        {
            float[] single = engine.Predict(new LatentRow { Noise = noise.AsSpan(r * 4, 4).ToArray() }).Generated;
            for (int j = 0; j < 4; j++) Assert.Equal(expected[r * 4 + j], single[j], 1e-4 * model.FeatureScaler.Scale[j]);
        }
    }

    [Fact]
    public void ARowMapperOfADisposedGeneratorThrowsObjectDisposed()
    {
        var generator = new GenerateTransformer(PenguinsTestData.Model, new GenerateOptions { InputColumnName = "Seed", Steps = 3, SessionSettings = OrtTestRunner.Settings });
        var engine = _context.Model.CreatePredictionEngine<SeedRow, GeneratedRow>(generator);
        Assert.Equal(4, engine.Predict(new SeedRow { Seed = 1 }).Generated.Length);
        generator.Dispose();
        Assert.Throws<ObjectDisposedException>(() => engine.Predict(new SeedRow { Seed = 2 }));
        Assert.Throws<ObjectDisposedException>(() => generator.GetRowToRowMapper(generator.GetOutputSchema(_context.Data.LoadFromEnumerable(new[] { new SeedRow() }).Schema)));
    }
}
