using System.Globalization;

namespace MLExtensions.Diffusion.Cli.Demo;

/// <summary>The demo's embedded data: the four body measurements of the Palmer penguins (samples/data/penguins.csv, CC0),
/// rows with a missing cell dropped, split by a fixed seeded shuffle into 80 % training and 20 % held-out rows.</summary>
internal sealed class DemoData
{
    /// <summary>The four numeric columns, in order.</summary>
    public static readonly string[] Columns = ["beak_length_mm", "beak_depth_mm", "flipper_length_mm", "body_mass_g"];

    /// <summary>Short labels for the figures.</summary>
    public static readonly string[] Labels = ["beak length (mm)", "beak depth (mm)", "flipper length (mm)", "body mass (g)"];

    /// <summary>The seed of the held-out split (fixed: the split never depends on --seed).</summary>
    public const int SplitSeed = 2024;

    /// <summary>The share of the complete rows held out.</summary>
    public const double HeldOutFraction = 0.2;

    public const int Dimension = 4;

    private DemoData(int totalRows, int droppedRows, float[] train, float[] heldOut)
    {
        TotalRows = totalRows;
        DroppedRows = droppedRows;
        Train = train;
        HeldOut = heldOut;
    }

    /// <summary>Rows in the file.</summary>
    public int TotalRows { get; }

    /// <summary>Rows dropped because a cell of the four columns was empty or NA.</summary>
    public int DroppedRows { get; }

    /// <summary>Training rows, row-major, 4 floats a row.</summary>
    public float[] Train { get; }

    /// <summary>Held-out rows, row-major.</summary>
    public float[] HeldOut { get; }

    public int TrainRows => Train.Length / Dimension;

    public int HeldOutRows => HeldOut.Length / Dimension;

    /// <summary>Reads the embedded CSV.</summary>
    public static DemoData Load()
    {
        using var stream = typeof(DemoData).Assembly.GetManifestResourceStream("MLExtensions.Diffusion.Cli.Demo.penguins.csv")
            ?? throw new InvalidOperationException("The embedded penguins data is missing from the mldiffusion assembly; rebuild the CLI project.");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd());
    }

    /// <summary>Parses the CSV text (header row, comma separated; empty or NA cells are missing).</summary>
    public static DemoData Parse(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var header = lines[0].Split(',');
        int[] index = Columns.Select(name => Array.IndexOf(header, name)).ToArray();
        if (index.Any(i => i < 0)) throw new InvalidDataException($"The penguins CSV lacks one of the columns {string.Join(", ", Columns)}.");
        var complete = new List<float[]>();
        int total = 0, dropped = 0;
        foreach (var line in lines.Skip(1))
        {
            total++;
            var fields = line.Split(',');
            var row = new float[Dimension];
            bool missing = false;
            for (int j = 0; j < Dimension; j++)
            {
                string cell = index[j] < fields.Length ? fields[index[j]].Trim() : "";
                if (cell is "" or "NA" || !float.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out row[j]) || !float.IsFinite(row[j]))
                    missing = true;
            }
            if (missing) dropped++;
            else complete.Add(row);
        }
        var order = Enumerable.Range(0, complete.Count).ToArray();
        new Random(SplitSeed).Shuffle(order);
        int held = (int)Math.Round(HeldOutFraction * complete.Count);
        var heldOut = order.Take(held).SelectMany(i => complete[i]).ToArray();
        var train = order.Skip(held).SelectMany(i => complete[i]).ToArray();
        return new DemoData(total, dropped, train, heldOut);
    }
}
