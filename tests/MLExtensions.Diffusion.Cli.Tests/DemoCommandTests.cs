using System.CommandLine;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.OnnxRuntime;
using MLExtensions.Diffusion.Cli.Demo;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.Onnx;
using MLExtensions.Diffusion.Randomness;
using Xunit;

namespace MLExtensions.Diffusion.Cli.Tests;

/// <summary>Runs <c>mldiffusion demo</c> in-process, end to end, on few training steps.</summary>
public sealed class DemoCommandTests : IClassFixture<DemoCommandTests.DemoRun>
{
    private readonly DemoRun _run;

    public DemoCommandTests(DemoRun run) => _run = run;

    /// <summary>One demo run shared by the tests of the class (it takes tens of seconds).</summary>
    public sealed class DemoRun : IDisposable
    {
        public DemoRun()
        {
            Folder = Path.Combine(Path.GetTempPath(), "mldiffusion-demo-test-" + Guid.NewGuid().ToString("N"));
            var root = new RootCommand("mldiffusion") { DemoCommand.Create() };
            ExitCode = root.Parse(["demo", "--out", Folder, "--steps", "60", "--seed", "3", "--json"]).InvokeAsync().GetAwaiter().GetResult();
            string json = File.ReadAllText(Path.Combine(Folder, "demo.json"));
            Result = JsonSerializer.Deserialize<DemoResult>(json, new JsonSerializerOptions
            {
                NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
            })!;
        }

        public string Folder { get; }

        public int ExitCode { get; }

        public DemoResult Result { get; }

        public void Dispose()
        {
            try { Directory.Delete(Folder, recursive: true); } catch (IOException) { }
        }
    }

    [Fact]
    public void Demo_succeeds_and_writes_every_file_with_no_partial_folder_left()
    {
        Assert.Equal(DemoCommand.ExitOk, _run.ExitCode);
        foreach (var name in new[] { "model.zip", "sampler.onnx", "schedule-report.json", "pairs.png", "kinetic-energy.png", "error-vs-nfe.png", "demo.json" })
            Assert.True(File.Exists(Path.Combine(_run.Folder, name)), name);
        Assert.Empty(Directory.GetDirectories(_run.Folder));
    }

    [Fact]
    public void Data_split_drops_the_missing_rows_and_holds_out_a_fifth()
    {
        var r = _run.Result;
        Assert.Equal(344, r.TotalRows);
        Assert.Equal(2, r.DroppedRows);                     // the two penguins with no measurements
        Assert.Equal(r.TotalRows - r.DroppedRows, r.TrainRows + r.HeldOutRows);
        Assert.Equal((int)Math.Round(0.2 * (r.TotalRows - r.DroppedRows)), r.HeldOutRows);
        Assert.InRange(r.TrainingSteps, 1, 60);
        Assert.InRange(r.BestStep, 1, r.TrainingSteps);
    }

    [Fact]
    public void Model_zip_loads_with_the_optimised_plan_and_the_onnx_sampler_reproduces_GenerateFromNoise()
    {
        var model = new MLContext(seed: 1).Diffusion().LoadModel(Path.Combine(_run.Folder, "model.zip"));
        Assert.Equal(4, model.Dimension);
        Assert.Equal(7, model.SamplingPlan.Nfe);
        Assert.Equal(_run.Result.OptimisedPlan, model.SamplingPlan.ToString());

        const int rows = 64, d = 4;
        var noise = StandardNormal.Sample(new Random(5), rows * d).Select(v => (float)v).ToArray();
        var expected = model.GenerateFromNoise(noise);
        using var session = OnnxSessionFactory.CreateFromFile(Path.Combine(_run.Folder, "sampler.onnx"));
        using var input = OrtValue.CreateTensorValueFromMemory(noise, [rows, d]);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, [SamplerGraphCompiler.InputNoise], [input], [SamplerGraphCompiler.OutputSamples]);
        var onnx = results[0].GetTensorDataAsSpan<float>().ToArray();
        Assert.Equal(expected.Length, onnx.Length);
        for (int i = 0; i < onnx.Length; i++)
            Assert.True(Math.Abs(onnx[i] - expected[i]) <= 1e-3 * model.FeatureScaler.Scale[i % d], $"element {i}: {onnx[i]} vs {expected[i]}");
    }

    [Theory]
    [InlineData("pairs.png")]
    [InlineData("kinetic-energy.png")]
    [InlineData("error-vs-nfe.png")]
    public void Figures_are_png_files_with_content(string name)
    {
        var bytes = File.ReadAllBytes(Path.Combine(_run.Folder, name));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, bytes.AsSpan(0, 8).ToArray());
        Assert.True(bytes.Length > 20_000, $"{name} has {bytes.Length} bytes");   // a blank 900 x 560 PNG is a few KB
    }

    [Fact]
    public void Table_numbers_are_finite_and_the_optimised_plan_is_not_worse_than_the_default_at_equal_nfe()
    {
        var table = _run.Result.Table;
        Assert.Equal(["default plan", "optimised plan", "fitted Gaussian", "training rows (floor)"], table.Select(t => t.Source).ToArray());
        foreach (var row in table)
        {
            Assert.True(double.IsFinite(row.HeldOutSlicedW2) && row.HeldOutSlicedW2 > 0, row.Source);
            Assert.True(double.IsFinite(row.HeldOutMmd2), row.Source);
        }
        var (plain, tuned) = (table[0], table[1]);
        Assert.Equal(plain.Nfe, tuned.Nfe);
        foreach (var row in new[] { plain, tuned })
        {
            Assert.True(row.DiscretisationRms is > 0 and < double.PositiveInfinity, row.Source);
            Assert.True(row.KineticCost is > 0 and < double.PositiveInfinity, row.Source);
            Assert.True(row.Efficiency is > 0 and <= 1.0001, row.Source);          // W2^2 <= tau c2: the speed limit
            Assert.True(row.RowsPerSecond is > 0 and < double.PositiveInfinity, row.Source);
        }
        Assert.True(tuned.DiscretisationRms <= plain.DiscretisationRms, $"optimised {tuned.DiscretisationRms} vs default {plain.DiscretisationRms}");
        var atBudget = _run.Result.ErrorVsNfe.Single(p => p.Nfe == 7);
        Assert.True(atBudget.OptimisedRms <= atBudget.DefaultRms);
        Assert.All(_run.Result.ErrorVsNfe, p => Assert.True(double.IsFinite(p.DefaultRms) && double.IsFinite(p.OptimisedRms)));
    }

    [Fact]
    public void A_bad_steps_value_is_refused_before_anything_is_written()
    {
        string folder = Path.Combine(Path.GetTempPath(), "mldiffusion-demo-bad-" + Guid.NewGuid().ToString("N"));
        var root = new RootCommand("mldiffusion") { DemoCommand.Create() };
        var parse = root.Parse(["demo", "--out", folder, "--steps", "0"]);
        Assert.Contains(parse.Errors, e => e.Message.Contains("--steps", StringComparison.Ordinal));
        Assert.Equal(DemoCommand.ExitBadOption, parse.Invoke(new InvocationConfiguration { Output = TextWriter.Null, Error = TextWriter.Null }));
        Assert.False(Directory.Exists(folder));
    }

    [Fact]
    public void An_output_path_that_is_a_file_is_refused_with_its_exit_code()
    {
        string file = Path.GetTempFileName();
        try
        {
            Assert.Equal(DemoCommand.ExitOutput, DemoCommand.Execute(file, steps: 50, seed: 1, json: true, CancellationToken.None));
            Assert.Equal(0, new FileInfo(file).Length);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Cancelling_leaves_no_output_behind()
    {
        string folder = Path.Combine(Path.GetTempPath(), "mldiffusion-demo-cancel-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var cancelled = new CancellationTokenSource();
            cancelled.Cancel();
            Assert.Equal(DemoCommand.ExitCancelled, DemoCommand.Execute(folder, steps: 50, seed: 1, json: true, cancelled.Token));
            Assert.Empty(Directory.GetFileSystemEntries(folder));
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }
}
