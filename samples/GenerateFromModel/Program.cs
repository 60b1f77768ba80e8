// A production-style caller: load a trained diffusion model saved with DiffusionModel.Save and generate rows.
//
//   GenerateFromModel <model.zip> <rows> <seed> [out.csv]     rows from seeded standard-normal latents
//   GenerateFromModel <model.zip> --noise <noise.csv> [out.csv]  one row per latent row of noise.csv
//   GenerateFromModel --chain <chain.zip> <input.csv> [out.csv]  a whole fitted chain saved with
//       mlContext.Diffusion().SaveChain: input.csv holds the chain's input columns in schema order (no header; Single
//       or Int32 cells, a vector column spanning its size; empty cells load as NaN); each output row holds the columns
//       the chain adds (Single or Single vectors), in schema order
//
// Rows are written as CSV (round-trip float formatting) to out.csv, or to the console.
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;

if (args.Length < 3)
{
    Console.Error.WriteLine("usage: GenerateFromModel <model.zip> <rows> <seed> [out.csv] | <model.zip> --noise <noise.csv> [out.csv] | --chain <chain.zip> <input.csv> [out.csv]");
    return 2;
}
try
{
    if (args[0] == "--chain") return RunChain(args[1], args[2], args.Length > 3 ? args[3] : null);
    DiffusionModel model = new MLContext(seed: 0).Diffusion().LoadModel(args[0]);
    float[] rows;
    if (args[1] == "--noise")
    {
        float[] noise = File.ReadLines(args[2]).Where(l => !string.IsNullOrWhiteSpace(l))
            .SelectMany(l => l.Split(',').Select(c => float.Parse(c, NumberStyles.Float, CultureInfo.InvariantCulture))).ToArray();
        rows = model.GenerateFromNoise(noise);
    }
    else
    {
        rows = model.Generate(int.Parse(args[1], CultureInfo.InvariantCulture), int.Parse(args[2], CultureInfo.InvariantCulture));
    }
    int d = model.Dimension;
    var lines = Enumerable.Range(0, rows.Length / d)
        .Select(r => string.Join(",", rows.AsSpan(r * d, d).ToArray().Select(f => f.ToString("R", CultureInfo.InvariantCulture))));
    string? output = args.Length > 3 ? args[3] : null;
    if (output is null) foreach (string line in lines) Console.WriteLine(line);
    else
    {
        File.WriteAllLines(output + ".tmp", lines);
        File.Move(output + ".tmp", output, overwrite: true);
    }
    return 0;
}
catch (Exception e) when (e is IOException or InvalidDataException or FormatException or ArgumentException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}

// Loads the chain, maps input.csv through it and writes the columns the chain adds.
static int RunChain(string chainPath, string inputPath, string? output)
{
    var mlContext = new MLContext(seed: 0);
    var chain = mlContext.Diffusion().LoadChain(chainPath, out DataViewSchema inputSchema);
    try
    {
        var columns = new List<TextLoader.Column>();
        int field = 0;
        foreach (var column in inputSchema)
        {
            var item = column.Type is VectorDataViewType v ? v.ItemType : column.Type;
            var kind = item == NumberDataViewType.Int32 ? DataKind.Int32 : DataKind.Single;
            int size = 1;
            if (column.Type is VectorDataViewType { IsKnownSize: true } vector)
            {
                size = vector.Size;
                columns.Add(new TextLoader.Column(column.Name, kind, field, field + size - 1));
            }
            else columns.Add(new TextLoader.Column(column.Name, kind, field));
            field += size;
        }
        var loader = mlContext.Data.CreateTextLoader(new TextLoader.Options { Columns = columns.ToArray(), Separators = [','], MissingRealsAsNaNs = true });
        var scored = chain.Transform(loader.Load(inputPath));
        var added = scored.Schema.Where(c => !c.IsHidden && inputSchema.GetColumnOrNull(c.Name) is null).ToArray();
        var lines = new List<string>();
        using (var cursor = scored.GetRowCursor(added))
        {
            var getters = added.Select(c => Reader(cursor, c)).ToArray();
            while (cursor.MoveNext())
                lines.Add(string.Join(",", getters.SelectMany(g => g()).Select(f => f.ToString("R", CultureInfo.InvariantCulture))));
        }
        if (output is null) foreach (string line in lines) Console.WriteLine(line);
        else
        {
            File.WriteAllLines(output + ".tmp", lines);
            File.Move(output + ".tmp", output, overwrite: true);
        }
        return 0;
    }
    finally
    {
        foreach (var t in chain) (t as IDisposable)?.Dispose();
    }
}

// The values of column c at the cursor's current row (a Single or a vector of Single).
static Func<float[]> Reader(DataViewRowCursor cursor, DataViewSchema.Column c)
{
    if (c.Type is VectorDataViewType)
    {
        var vector = cursor.GetGetter<VBuffer<float>>(c);
        VBuffer<float> buffer = default;
        return () => { vector(ref buffer); return buffer.DenseValues().ToArray(); };
    }
    var scalar = cursor.GetGetter<float>(c);
    return () => { float value = 0; scalar(ref value); return [value]; };
}
