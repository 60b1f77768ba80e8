using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;

namespace MLExtensions.Diffusion.Tests.MLNet;

/// <summary>The shipped penguins model and its held-out rows, loaded once.</summary>
internal static class PenguinsTestData
{
    public const int Dimension = 4;

    private static readonly Lazy<DiffusionModel> LazyModel = new(() => DiffusionModel.Load(Path.Combine(Folder, "model.zip")));

    private static readonly Lazy<float[]> LazyHeldOut = new(() => ReadCsv(Path.Combine(Folder, "heldout.csv")));

    public static string Folder => Path.Combine(FindRepositoryRoot(), "models", "penguins");

    public static DiffusionModel Model => LazyModel.Value;

    /// <summary>Held-out rows in data units, row-major (68 x 4).</summary>
    public static float[] HeldOut => LazyHeldOut.Value;

    public sealed class Row
    {
        [VectorType(Dimension)]
        public float[] Features { get; set; } = [];

        public int Id { get; set; }
    }

    public static IDataView View(MLContext context, float[] rows) =>
        context.Data.LoadFromEnumerable(Enumerable.Range(0, rows.Length / Dimension)
            .Select(r => new Row { Features = rows.AsSpan(r * Dimension, Dimension).ToArray(), Id = r }).ToList());

    private static float[] ReadCsv(string path) =>
        File.ReadAllLines(path).Skip(1).Where(l => l.Length > 0)
            .SelectMany(l => l.Split(',').Select(f => float.Parse(f, CultureInfo.InvariantCulture))).ToArray();

    private static string FindRepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "MLExtensions.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("MLExtensions.sln not found above the test directory.");
    }
}
