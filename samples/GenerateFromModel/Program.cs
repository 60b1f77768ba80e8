// A production-style caller: load a trained diffusion model saved with DiffusionModel.Save and generate rows.
//
//   GenerateFromModel <model.zip> <rows> <seed> [out.csv]     rows from seeded standard-normal latents
//   GenerateFromModel <model.zip> --noise <noise.csv> [out.csv]  one row per latent row of noise.csv
//
// Rows are written as CSV (round-trip float formatting) to out.csv, or to the console.
using System.Globalization;
using Microsoft.ML;
using MLExtensions.Diffusion.MLNet;

if (args.Length < 3)
{
    Console.Error.WriteLine("usage: GenerateFromModel <model.zip> <rows> <seed> [out.csv] | <model.zip> --noise <noise.csv> [out.csv]");
    return 2;
}
try
{
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
