using System.Globalization;
using System.Text;
using MLExtensions.Diffusion.Cli;

namespace MLExtensions.Diffusion.Cli.Tests;

/// <summary>A temporary folder deleted when disposed.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => Path = CliHarness.TempFolder();

    public string Path { get; }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Runs the root command in-process with captured output.</summary>
internal static class CliHarness
{
    public sealed record Result(int ExitCode, string Out, string Error);

    public static Result Run(params string[] args) => Run(null, default, args);

    public static Result Run(Action<string>? onProgress, CancellationToken ct, params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int rc = CliApp.RunAsync(args, new CliContext { Out = o, Error = e, ProgressReported = onProgress }, ct).GetAwaiter().GetResult();
        return new Result(rc, o.ToString(), e.ToString());
    }

    /// <summary>A fresh temporary folder.</summary>
    public static string TempFolder()
    {
        string dir = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "mldiffusion-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>A small two-feature table with a text column: x ~ N(0, 1), y = 3 + 0.5 x + noise, species text.</summary>
    public static string WriteCsv(string dir, int rows = 200, string name = "data.csv")
    {
        var random = new Random(7);
        var sb = new StringBuilder("x,y,species\n");
        for (int i = 0; i < rows; i++)
        {
            double x = Normal(random), y = 3 + 0.5 * x + 0.3 * Normal(random);
            sb.Append(CultureInfo.InvariantCulture, $"{x:F4},{y:F4},{(i % 2 == 0 ? "Adelie" : "Gentoo")}\n");
        }
        string path = Path.Combine(dir, name);
        File.WriteAllText(path, sb.ToString());
        return path;
    }

    private static double Normal(Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());

    /// <summary>Training arguments for a tiny, fast model.</summary>
    public static string[] TinyTrain(string data, string model, params string[] extra) =>
        ["train", "--data", data, "--output", model, "--steps", "300", "--width", "32", "--depth", "2", "--batch-size", "64", "--seed", "1", .. extra];
}
