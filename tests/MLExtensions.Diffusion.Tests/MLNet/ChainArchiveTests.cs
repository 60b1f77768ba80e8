using System.Globalization;
using System.IO.Compression;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.Tests.Onnx;

namespace MLExtensions.Diffusion.Tests.MLNet;

/// <summary>
/// <c>mlContext.Diffusion().SaveChain</c> / <c>LoadChain</c> (issue 10, item 14): a fitted chain mixing ML.NET's
/// transformers (Concatenate, CopyColumns) with ours (the NLL and generate transformers on one model, stored once) is
/// saved as one zip, loaded in a fresh process (samples/GenerateFromModel --chain) and gives the same outputs.
/// </summary>
public class ChainArchiveTests
{
    private const int Rows = 8;
    private readonly MLContext _context = new(seed: 1);

    public sealed class Record
    {
        public float BeakLength { get; set; }
        public float BeakDepth { get; set; }
        public float FlipperLength { get; set; }
        public float BodyMass { get; set; }
        public int Seed { get; set; }
    }

    private List<Record> Records()
    {
        float[] held = PenguinsTestData.HeldOut;
        return Enumerable.Range(0, Rows).Select(r => new Record
        {
            BeakLength = held[4 * r], BeakDepth = held[4 * r + 1], FlipperLength = held[4 * r + 2], BodyMass = held[4 * r + 3], Seed = 40 + r,
        }).ToList();
    }

    private TransformerChain<ITransformer> FitChain(IDataView data)
    {
        var model = PenguinsTestData.Model;
        var fitted = _context.Transforms.Concatenate("Features",
                nameof(Record.BeakLength), nameof(Record.BeakDepth), nameof(Record.FlipperLength), nameof(Record.BodyMass))
            .Append(_context.Diffusion().NegativeLogLikelihood(model, new LikelihoodTransformOptions { Steps = 12, BatchSize = 3 }))
            .Fit(data);
        var generate = new GenerateTransformer(model, new GenerateOptions { InputColumnName = "Seed", Steps = 4, BatchSize = 5, SessionSettings = OrtTestRunner.Settings });
        var copy = _context.Transforms.CopyColumns("NLLCopy", "NLL").Fit(generate.Transform(fitted.Transform(data)));
        return new TransformerChain<ITransformer>(fitted, generate, copy);
    }

    /// <summary>The columns the chain adds, row by row, flattened (as GenerateFromModel --chain writes them).</summary>
    private static float[][] Added(IDataView scored, DataViewSchema inputSchema)
    {
        var added = scored.Schema.Where(c => !c.IsHidden && inputSchema.GetColumnOrNull(c.Name) is null).ToArray();
        Assert.Equal(["Features", "NLL", "Generated", "NLLCopy"], added.Select(c => c.Name));
        var rows = new List<float[]>();
        using var cursor = scored.GetRowCursor(added);
        while (cursor.MoveNext())
        {
            var row = new List<float>();
            foreach (var c in added)
            {
                if (c.Type is VectorDataViewType)
                {
                    VBuffer<float> b = default;
                    cursor.GetGetter<VBuffer<float>>(c)(ref b);
                    row.AddRange(b.DenseValues());
                }
                else
                {
                    float f = 0;
                    cursor.GetGetter<float>(c)(ref f);
                    row.Add(f);
                }
            }
            rows.Add(row.ToArray());
        }
        return rows.ToArray();
    }

    [Fact]
    public void AMixedChainSavedAsOneFileGivesTheSameOutputsInAFreshProcess()
    {
        string folder = Directory.CreateTempSubdirectory("mlx-chain-").FullName;
        try
        {
            var records = Records();
            var data = _context.Data.LoadFromEnumerable(records);
            var chain = FitChain(data);
            float[][] expected = Added(chain.Transform(data), data.Schema);

            string chainPath = Path.Combine(folder, "chain.zip"), inputPath = Path.Combine(folder, "input.csv"), outPath = Path.Combine(folder, "out.csv");
            _context.Diffusion().SaveChain(chain, data.Schema, chainPath);
            foreach (var t in chain) (t as IDisposable)?.Dispose();
            using (var zip = ZipFile.OpenRead(chainPath))
                Assert.Single(zip.Entries, e => e.FullName.StartsWith("models/", StringComparison.Ordinal)); // one model, stored once
            var c = CultureInfo.InvariantCulture;
            File.WriteAllLines(inputPath, records.Select(r => string.Join(",",
                r.BeakLength.ToString("R", c), r.BeakDepth.ToString("R", c), r.FlipperLength.ToString("R", c), r.BodyMass.ToString("R", c), r.Seed.ToString(c))));

            var (code, error) = FreshProcessRoundTripTests.RunSampleRaw("GenerateFromModel", "--chain", chainPath, inputPath, outPath);
            Assert.True(code == 0, $"GenerateFromModel --chain exited with {code}: {error}");
            float[][] actual = File.ReadLines(outPath).Where(l => l.Length > 0)
                .Select(l => l.Split(',').Select(v => float.Parse(v, NumberStyles.Float, c)).ToArray()).ToArray();
            Assert.Equal(expected.Length, actual.Length);
            for (int r = 0; r < expected.Length; r++) Assert.Equal(expected[r], actual[r]);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void LoadChainInProcessRestoresTheSchemaAndTheOutputsIncludingADiffusionModelPart()
    {
        string path = Path.Combine(Path.GetTempPath(), $"mlx-chain-{Guid.NewGuid():N}.zip");
        try
        {
            var data = _context.Data.LoadFromEnumerable(Records());
            var chain = FitChain(data);
            float[][] expected = Added(chain.Transform(data), data.Schema);
            _context.Diffusion().SaveChain(chain, data.Schema, path);
            var loaded = _context.Diffusion().LoadChain(path, out var schema);
            Assert.Equal(data.Schema.Select(c => (c.Name, c.Type)), schema.Select(c => (c.Name, c.Type)));
            Assert.Equal(4, loaded.Count());   // Concatenate, NLL, Generate, CopyColumns (flattened)
            Assert.IsType<LikelihoodTransformer>(loaded.ElementAt(1));
            Assert.Equal(expected, Added(loaded.Transform(data), schema));

            // A DiffusionModel as a part (its own Transform appends generated rows).
            var withModel = new TransformerChain<ITransformer>(loaded.First(), PenguinsTestData.Model);
            var before = withModel.Transform(data).GetColumn<float[]>(PenguinsTestData.Model.Options.GeneratedColumnName).ToArray();
            _context.Diffusion().SaveChain(withModel, data.Schema, path);
            var again = _context.Diffusion().LoadChain(path, out _);
            Assert.IsType<DiffusionModel>(again.LastTransformer);
            Assert.Equal(before, again.Transform(data).GetColumn<float[]>(PenguinsTestData.Model.Options.GeneratedColumnName).ToArray());
            foreach (var t in chain.Concat(loaded)) (t as IDisposable)?.Dispose();
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void UnsavableAndForeignInputsFailNamingTheProblem()
    {
        string folder = Directory.CreateTempSubdirectory("mlx-chain-bad-").FullName;
        try
        {
            var data = _context.Data.LoadFromEnumerable(Records());
            string onnx = Path.Combine(folder, "sampler.onnx");
            PenguinsTestData.Model.ExportSamplerOnnx(steps: 3).Model.Save(onnx);
            using var fromFile = GenerateTransformer.LoadSamplerOnnx(onnx, new GenerateOptions { InputColumnName = "Seed", SessionSettings = OrtTestRunner.Settings });
            var error = Assert.Throws<NotSupportedException>(() => _context.Diffusion().SaveChain(fromFile, data.Schema, Path.Combine(folder, "x.zip")));
            Assert.Contains("sampler.onnx", error.Message);
            Assert.False(File.Exists(Path.Combine(folder, "x.zip")));

            string model = Path.Combine(folder, "model.zip");
            PenguinsTestData.Model.Save(model);
            var invalid = Assert.Throws<InvalidDataException>(() => _context.Diffusion().LoadChain(model, out _));
            Assert.Contains("model.zip", invalid.Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
