using Microsoft.ML;
using Microsoft.ML.Data;
using MLExtensions.Diffusion.Likelihood;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;

namespace MLExtensions.Diffusion.Tests.MLNet;

public class LikelihoodTransformerTests
{
    private const int D = PenguinsTestData.Dimension;

    private static float[] Rows(int count) => PenguinsTestData.HeldOut.AsSpan(0, count * D).ToArray();

    private static float[] Column(IDataView view, string name = "NLL") => view.GetColumn<float>(name).ToArray();

    [Fact]
    public void Column_IsTheEngineLogDensityOfTheStandardisedRows_PlusTheLogStdCorrection()
    {
        var mlContext = new MLContext(seed: 1);
        var model = PenguinsTestData.Model;
        var rows = Rows(12);
        var options = new LikelihoodTransformOptions { Steps = 24, BatchSize = 5 };
        using var transformer = mlContext.Diffusion().NegativeLogLikelihood(model, options).Fit(PenguinsTestData.View(mlContext, rows));
        var nll = Column(transformer.Transform(PenguinsTestData.View(mlContext, rows)));

        // Independent reference: standardise here, call the engine on all rows at once, apply -ln p_y = -ln p_z + sum ln std.
        var z = new double[rows.Length];
        double logStd = 0;
        for (int j = 0; j < D; j++) logStd += Math.Log(model.FeatureScaler.Scale[j]);
        for (int i = 0; i < z.Length; i++) z[i] = (rows[i] - model.FeatureScaler.Mean[i % D]) / model.FeatureScaler.Scale[i % D];
        var logP = new double[rows.Length / D];
        ProbabilityFlowLikelihood.Compute(model.Denoiser, model.Schedule, z, logP, new LikelihoodOptions { Steps = 24 });
        Assert.Equal(logStd, transformer.LogScaleCorrection, 12);
        for (int r = 0; r < logP.Length; r++)
            Assert.Equal(-logP[r] + logStd, nll[r], 1e-5 * Math.Max(1, Math.Abs(nll[r])));
    }

    [Fact]
    public void DataUnitNll_IsComparableWithAFittedGaussianInDataUnits()
    {
        // The fitted Gaussian's NLL is computed in data units from the raw rows; the correction sum ln std is about 11.7 nats for
        // penguins, so a column left in standardised units would miss it by far more than the tolerance.
        var model = PenguinsTestData.Model;
        var held = PenguinsTestData.HeldOut;
        using var transformer = new LikelihoodTransformer(model, new LikelihoodTransformOptions { Steps = 24 });
        double modelNll = transformer.Score(held).Average();
        double gaussianNll = FittedGaussianNll(held);
        Assert.True(transformer.LogScaleCorrection > 10, $"correction {transformer.LogScaleCorrection}");
        Assert.True(Math.Abs(modelNll - gaussianNll) < 3, $"model {modelNll:F3}, Gaussian {gaussianNll:F3} nats per row");
    }

    [Fact]
    public void OnnxEngine_AgreesWithTheCSharpEngine()
    {
        var model = PenguinsTestData.Model;
        var rows = Rows(16);
        using var csharp = new LikelihoodTransformer(model, new LikelihoodTransformOptions { Steps = 24 });
        using var onnx = new LikelihoodTransformer(model, new LikelihoodTransformOptions { Steps = 24, Engine = LikelihoodEngine.Onnx });
        var a = csharp.Score(rows);
        var b = onnx.Score(rows);
        for (int r = 0; r < a.Length; r++) Assert.True(Math.Abs(a[r] - b[r]) < 1e-3, $"row {r}: C# {a[r]}, ONNX {b[r]}");
    }

    [Theory]
    [InlineData(LikelihoodEngine.CSharp)]
    [InlineData(LikelihoodEngine.Onnx)]
    public void ConcurrentTransformsFromFourThreads_GiveTheSerialResults(LikelihoodEngine engine)
    {
        var mlContext = new MLContext(seed: 1);
        var rows = Rows(20);
        var view = PenguinsTestData.View(mlContext, rows);
        using var transformer = new LikelihoodTransformer(PenguinsTestData.Model,
            new LikelihoodTransformOptions { Steps = 12, BatchSize = 6, Divergence = DivergenceEstimator.Hutchinson, HutchinsonProbes = 2, Seed = 3, Engine = engine });
        var serial = Column(transformer.Transform(view));
        var results = new float[4][];
        using var start = new Barrier(4);
        var threads = Enumerable.Range(0, 4).Select(k => new Thread(() =>
        {
            start.SignalAndWait();
            results[k] = Column(transformer.Transform(view));
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        foreach (var result in results) Assert.Equal(serial, result);
        // Hutchinson batches draw from their own seeds: rows of different batches do not share probes, so no two batches agree.
        Assert.NotEqual(serial.AsSpan(0, 6).ToArray(), serial.AsSpan(6, 6).ToArray());
    }

    [Fact]
    public void BatchSize_DoesNotChangeTheExactColumn_AndPassThroughColumnsLineUp()
    {
        var mlContext = new MLContext(seed: 1);
        var rows = Rows(11);
        var view = PenguinsTestData.View(mlContext, rows);
        using var small = new LikelihoodTransformer(PenguinsTestData.Model, new LikelihoodTransformOptions { Steps = 8, BatchSize = 3 });
        using var large = new LikelihoodTransformer(PenguinsTestData.Model, new LikelihoodTransformOptions { Steps = 8, BatchSize = 256 });
        var scored = small.Transform(view);
        var a = Column(scored);
        var b = Column(large.Transform(view));
        for (int r = 0; r < a.Length; r++) Assert.Equal(b[r], a[r], 1e-4f);
        // Read the NLL and the Id of the same row through one cursor.
        var ids = new List<int>();
        var values = new List<float>();
        using (var cursor = scored.GetRowCursor(scored.Schema))
        {
            var id = cursor.GetGetter<int>(scored.Schema["Id"]);
            var nll = cursor.GetGetter<float>(scored.Schema["NLL"]);
            int idValue = 0;
            float nllValue = 0;
            while (cursor.MoveNext())
            {
                id(ref idValue);
                nll(ref nllValue);
                ids.Add(idValue);
                values.Add(nllValue);
            }
        }
        Assert.Equal(Enumerable.Range(0, 11), ids);
        Assert.Equal(a, values);
    }

    [Fact]
    public void Estimator_AppendsToAnMLNetPipeline()
    {
        var mlContext = new MLContext(seed: 1);
        var rows = Rows(6);
        var data = mlContext.Data.LoadFromEnumerable(Enumerable.Range(0, 6).Select(r => new Scalars
        {
            A = rows[r * D], B = rows[r * D + 1], C = rows[r * D + 2], E = rows[r * D + 3],
        }).ToList());
        var pipeline = mlContext.Transforms.Concatenate("Features", nameof(Scalars.A), nameof(Scalars.B), nameof(Scalars.C), nameof(Scalars.E))
            .Append(mlContext.Diffusion().NegativeLogLikelihood(PenguinsTestData.Model, new LikelihoodTransformOptions { Steps = 8, OutputColumnName = "Score" }));
        var shape = pipeline.GetOutputSchema(SchemaShapeOf(data));
        var column = shape.Single(c => c.Name == "Score");
        Assert.Equal(SchemaShape.Column.VectorKind.Scalar, column.Kind);
        Assert.Equal(NumberDataViewType.Single, column.ItemType);
        var fitted = pipeline.Fit(data);
        var scored = Column(fitted.Transform(data), "Score");
        using var direct = new LikelihoodTransformer(PenguinsTestData.Model, new LikelihoodTransformOptions { Steps = 8 });
        var expected = direct.Score(rows);
        for (int r = 0; r < 6; r++) Assert.Equal((float)expected[r], scored[r], 1e-4f);
    }

    [Fact]
    public void MismatchedColumns_FailNamingTheColumn()
    {
        var mlContext = new MLContext(seed: 1);
        using var transformer = new LikelihoodTransformer(PenguinsTestData.Model, new LikelihoodTransformOptions { InputColumnName = "Measurements" });
        var view = PenguinsTestData.View(mlContext, Rows(3));
        var missing = Assert.Throws<ArgumentException>(() => transformer.Transform(view));
        Assert.Contains("'Measurements'", missing.Message);
        Assert.Equal("input", missing.ParamName);

        using var features = new LikelihoodTransformer(PenguinsTestData.Model);
        var wrongSize = mlContext.Data.LoadFromEnumerable(new[] { new ThreeFeatures { Features = [1, 2, 3] } });
        var size = Assert.Throws<ArgumentException>(() => features.Transform(wrongSize));
        Assert.Contains("'Features'", size.Message);
        Assert.Contains("dimension is 4", size.Message);
        var scalar = mlContext.Data.LoadFromEnumerable(new[] { new ScalarFeatures { Features = 1 } });
        var type = Assert.Throws<ArgumentException>(() => features.GetOutputSchema(scalar.Schema));
        Assert.Contains("'Features'", type.Message);
        Assert.Equal("inputSchema", type.ParamName);
    }

    [Fact]
    public void NonFiniteRow_FailsNamingTheRow_WhenTheColumnIsRead()
    {
        var mlContext = new MLContext(seed: 1);
        var rows = Rows(5);
        rows[2 * D + 1] = float.NaN;
        using var transformer = new LikelihoodTransformer(PenguinsTestData.Model, new LikelihoodTransformOptions { Steps = 4 });
        var scored = transformer.Transform(PenguinsTestData.View(mlContext, rows));   // lazy: no error yet
        var e = Assert.Throws<ArgumentException>(() => Column(scored));
        Assert.Contains("Row 2", e.Message);
        Assert.Contains("slot 1", e.Message);
        Assert.Contains("'Features'", e.Message);
        var direct = Assert.Throws<ArgumentException>(() => transformer.Score(rows));
        Assert.Contains("Row 2", direct.Message);
    }

    [Fact]
    public void BadOptionsAndBadModelFiles_FailClearly()
    {
        var mlContext = new MLContext(seed: 1);
        var model = PenguinsTestData.Model;
        Assert.Equal("Steps", Assert.Throws<ArgumentOutOfRangeException>(() => new LikelihoodTransformer(model, new LikelihoodTransformOptions { Steps = 0 })).ParamName);
        Assert.Equal("BatchSize", Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.Diffusion().NegativeLogLikelihood(model, new LikelihoodTransformOptions { BatchSize = 0 })).ParamName);
        Assert.Equal("OutputColumnName", Assert.Throws<ArgumentException>(() => new LikelihoodTransformer(model, new LikelihoodTransformOptions { OutputColumnName = "Features" })).ParamName);
        Assert.Equal("TMin", Assert.Throws<ArgumentOutOfRangeException>(() => new LikelihoodTransformer(model, new LikelihoodTransformOptions { TMin = 5 })).ParamName);

        string path = Path.Combine(Path.GetTempPath(), $"not-a-model-{Guid.NewGuid():N}.zip");
        File.WriteAllBytes(path, [1, 2, 3, 4, 5, 6, 7, 8]);
        try
        {
            var e = Assert.Throws<InvalidDataException>(() => mlContext.Diffusion().LoadModel(path));
            Assert.Contains(Path.GetFileName(path), e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>SchemaShape.Create(schema), which ML.NET keeps internal; reached by reflection in the test only.</summary>
    private static SchemaShape SchemaShapeOf(IDataView view)
    {
        var create = typeof(SchemaShape).GetMethod("Create", System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public, [typeof(DataViewSchema)])!;
        return (SchemaShape)create.Invoke(null, [view.Schema])!;
    }

    private static double FittedGaussianNll(float[] rows)
    {
        int n = rows.Length / D;
        var data = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Dense(n, D, (r, j) => rows[r * D + j]);
        var mean = data.ColumnSums() / n;
        var centred = data - MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Dense(n, D, (_, j) => mean[j]);
        var covariance = centred.TransposeThisAndMultiply(centred) / n;
        var cholesky = covariance.Cholesky();
        double logDet = 2 * Enumerable.Range(0, D).Sum(j => Math.Log(cholesky.Factor[j, j]));
        double total = 0;
        for (int r = 0; r < n; r++)
        {
            var x = centred.Row(r);
            total += 0.5 * (x * cholesky.Solve(x) + logDet + D * Math.Log(2 * Math.PI));
        }
        return total / n;
    }

    private sealed class Scalars
    {
        public float A { get; set; }

        public float B { get; set; }

        public float C { get; set; }

        public float E { get; set; }
    }

    private sealed class ThreeFeatures
    {
        [VectorType(3)]
        public float[] Features { get; set; } = [];
    }

    private sealed class ScalarFeatures
    {
        public float Features { get; set; }
    }
}
