using System.Globalization;

namespace MLExtensions.Diffusion.Benchmarks;

/// <summary>The shipped models' folder and their CSV files, shared by the studies that read them.</summary>
internal static class ShippedData
{
    /// <summary>The repository's models/ folder, found above the program's folder or the working directory.</summary>
    public static string ModelsFolder()
    {
        foreach (string start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (Directory.Exists(Path.Combine(dir.FullName, "models", "penguins"))) return Path.Combine(dir.FullName, "models");
        throw new DirectoryNotFoundException("models/ not found above the program's folder or the working directory.");
    }

    /// <summary>The first <paramref name="d"/> columns of a CSV with a header, row-major, skipping rows with an empty,
    /// unparsable or non-finite cell.</summary>
    public static float[] ReadCsv(string path, int d)
    {
        var values = new List<float>();
        foreach (string line in File.ReadAllLines(path).Skip(1))
        {
            var cells = line.Split(',');
            if (cells.Length < d) continue;
            var row = new float[d];
            bool ok = true;
            for (int j = 0; j < d && ok; j++) ok = float.TryParse(cells[j], NumberStyles.Float, CultureInfo.InvariantCulture, out row[j]) && float.IsFinite(row[j]);
            if (ok) values.AddRange(row);
        }
        return values.ToArray();
    }

    /// <summary>z = (y - mean) / std per feature.</summary>
    public static double[] Standardise(ReadOnlySpan<float> rows, ReadOnlySpan<double> mean, ReadOnlySpan<double> std)
    {
        int d = mean.Length;
        var z = new double[rows.Length];
        for (int i = 0; i < z.Length; i++) z[i] = (rows[i] - mean[i % d]) / std[i % d];
        return z;
    }
}
