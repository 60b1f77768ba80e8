using Microsoft.ML;
using Microsoft.ML.Data;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;

namespace MLExtensions.Diffusion.Tests.MLNet;

/// <summary>
/// The guide's loading route (issue 10, item 5): <c>LoadFromTextFile</c> with <c>TextLoader.Options.MissingRealsAsNaNs</c>
/// loads the empty cells of <c>samples/data/penguins.csv</c> (data rows 3 and 339 have no measurements) as NaN, so
/// <see cref="ScoreMatchingOptions.MissingValueHandling"/> fires: Error names the row, DropRows drops it. The bare
/// <c>LoadFromTextFile&lt;T&gt;(path, hasHeader, separatorChar)</c> overload the guide used loads them as 0.
/// </summary>
public class MissingCellLoadingTests
{
    private static readonly string Root = FindRepositoryRoot();
    private static readonly string Csv = Path.Combine(Root, "samples", "data", "penguins.csv");

    public sealed class Penguin
    {
        [LoadColumn(2)] public float BeakLength { get; set; }
        [LoadColumn(3)] public float BeakDepth { get; set; }
        [LoadColumn(4)] public float FlipperLength { get; set; }
        [LoadColumn(5)] public float BodyMass { get; set; }
    }

    /// <summary>The route the guide documents.</summary>
    private static IDataView Load(MLContext mlContext) =>
        mlContext.Data.LoadFromTextFile<Penguin>(Csv, new TextLoader.Options
        {
            HasHeader = true,
            Separators = [','],
            MissingRealsAsNaNs = true,
        });

    private static EstimatorChain<DiffusionModel> Pipeline(MLContext mlContext, MissingValueHandling handling)
    {
        var options = MLNetTestData.TinyOptions(20);
        options.MissingValueHandling = handling;
        return mlContext.Transforms.Concatenate("Features",
                nameof(Penguin.BeakLength), nameof(Penguin.BeakDepth), nameof(Penguin.FlipperLength), nameof(Penguin.BodyMass))
            .Append(mlContext.Diffusion().Trainers.ScoreMatching(options));
    }

    [Fact]
    public void TheGuideLoadsEmptyCellsAsNaN()
    {
        string guide = File.ReadAllText(Path.Combine(Root, "docs", "guide.md"));
        Assert.Contains("MissingRealsAsNaNs = true", guide);
        Assert.DoesNotContain("hasHeader: true, separatorChar: ',')", guide);

        var mlContext = new MLContext(seed: 1);
        var rows = mlContext.Data.CreateEnumerable<Penguin>(Load(mlContext), reuseRowObject: false).ToList();
        Assert.Equal(344, rows.Count);
        Assert.True(float.IsNaN(rows[3].BeakLength) && float.IsNaN(rows[3].BodyMass));
        Assert.Equal(39.1f, rows[0].BeakLength);

        // The overload the guide used before: the same cells come back as 0.
        var bare = mlContext.Data.CreateEnumerable<Penguin>(
            mlContext.Data.LoadFromTextFile<Penguin>(Csv, hasHeader: true, separatorChar: ','), reuseRowObject: false).ToList();
        Assert.Equal(0f, bare[3].BeakLength);
    }

    [Fact]
    public void ErrorNamesTheRowWithTheEmptyCell()
    {
        var mlContext = new MLContext(seed: 1);
        var error = Assert.Throws<ArgumentException>(() => Pipeline(mlContext, MissingValueHandling.Error).Fit(Load(mlContext)));
        Assert.Contains("Row 3 ", error.Message);
        Assert.Contains("'Features'", error.Message);
    }

    [Fact]
    public void DropRowsDropsTheRowsWithEmptyCells()
    {
        var mlContext = new MLContext(seed: 1);
        var model = Pipeline(mlContext, MissingValueHandling.DropRows).Fit(Load(mlContext));
        var summary = model.LastTransformer.Summary;
        Assert.Equal(2, summary.DroppedRows);
        Assert.Equal(342, summary.Rows);
    }

    private static string FindRepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "MLExtensions.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("MLExtensions.sln not found above the test directory.");
    }
}
