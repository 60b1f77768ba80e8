using Microsoft.ML;
using Microsoft.ML.Data;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;

namespace MLExtensions.Diffusion.Tests.MLNet;

/// <summary>Explicit buffer shapes (issue 10, item 9) and one seed contract for every generating entry point (item 8).</summary>
public class SeedAndShapeContractTests
{
    private static DiffusionModel Model => PenguinsTestData.Model;

    /// <summary>Six rows of width 4 (24 values) are also four rows of width 6: a 6-feature table given to the 4-feature model.</summary>
    private static float[] SixWideRows()
    {
        var random = new Random(4);
        return Enumerable.Range(0, 24).Select(_ => (float)(random.NextDouble() * 10 + 40)).ToArray();
    }

    [Fact]
    public void Score_WithTheStatedShape_RejectsRowsOfAnotherWidth_NamingExpectedAndActualWidth()
    {
        Assert.Equal(4, Model.Dimension);
        using var nll = new LikelihoodTransformer(Model, new LikelihoodTransformOptions { Steps = 4 });
        var wide = SixWideRows();
        Assert.Equal(6, nll.Score(wide).Length);   // the width-d overload reinterprets them (documented)

        var width = Assert.Throws<ArgumentException>(() => nll.Score(wide, rowCount: 4, width: 6));
        Assert.Equal("width", width.ParamName);
        Assert.Contains("expected width 4, actual 6", width.Message, StringComparison.Ordinal);

        var length = Assert.Throws<ArgumentException>(() => nll.Score(wide, rowCount: 4, width: 4));
        Assert.Equal("rows", length.ParamName);
        Assert.Contains("would have width 6, expected 4", length.Message, StringComparison.Ordinal);

        Assert.Throws<ArgumentOutOfRangeException>(() => nll.Score(wide, rowCount: 0, width: 4));
        Assert.Equal(nll.Score(wide), nll.Score(wide, rowCount: 6, width: 4));
    }

    [Fact]
    public void ModelGenerate_AndTheStreamingGenerate_ReturnTheSameRowsForTheSameSeed()
    {
        var context = new MLContext(seed: 1);
        const int count = 300, seed = 7;
        var rows = Model.Generate(count, seed, steps: 6);
        var csharp = ReadGenerated(context.Diffusion().Generate(Model, count, seed, new GenerateOptions { Steps = 6, Engine = GenerateEngine.CSharp, BatchSize = 64 }));
        var onnx = ReadGenerated(context.Diffusion().Generate(Model, count, seed, new GenerateOptions { Steps = 6 }));
        Assert.Equal(rows.Length, csharp.Length);
        var scale = Model.FeatureScaler.Scale;
        for (int i = 0; i < rows.Length; i++)
        {
            Assert.True(Math.Abs(rows[i] - csharp[i]) <= 1e-6 * scale[i % 4], $"C# engine, value {i}: {rows[i]} vs {csharp[i]}");
            Assert.True(Math.Abs(rows[i] - onnx[i]) <= 1e-4 * scale[i % 4], $"ONNX engine, value {i}: {rows[i]} vs {onnx[i]}");
        }
        // Row i depends on (seed, i) only: a shorter run is a prefix, and the data view agrees.
        Assert.Equal(rows.AsSpan(0, 40 * 4).ToArray(), Model.Generate(40, seed, steps: 6));
        Assert.Equal(rows, ReadGenerated(Model.GenerateDataView(count, seed, steps: 6, columnName: GenerateOptions.DefaultOutputColumnName)));
        Assert.NotEqual(rows, Model.Generate(count, seed + 1, steps: 6));
    }

    private static float[] ReadGenerated(IDataView view) =>
        view.GetColumn<float[]>(GenerateOptions.DefaultOutputColumnName).SelectMany(r => r).ToArray();

    [Fact]
    public void GenerateFromNoise_WithTheStatedShape_RejectsRowsOfAnotherWidth_NamingExpectedAndActualWidth()
    {
        var noise = Enumerable.Range(0, 24).Select(i => (float)Math.Sin(i)).ToArray();
        var width = Assert.Throws<ArgumentException>(() => Model.GenerateFromNoise(noise, rows: 4, width: 6, steps: 4));
        Assert.Equal("width", width.ParamName);
        Assert.Contains("expected width 4, actual 6", width.Message, StringComparison.Ordinal);

        var length = Assert.Throws<ArgumentException>(() => Model.GenerateFromNoise(noise, rows: 4, width: 4, steps: 4));
        Assert.Equal("noise", length.ParamName);
        Assert.Contains("would have width 6, expected 4", length.Message, StringComparison.Ordinal);

        Assert.Equal(Model.GenerateFromNoise(noise, steps: 4), Model.GenerateFromNoise(noise, rows: 6, width: 4, steps: 4));
    }
}
