using System.Globalization;
using System.Text.Json;

namespace MLExtensions.Diffusion.Cli.Tests;

/// <summary>Train on a small CSV, then every command on the saved model.</summary>
public sealed class EndToEndTests
{
    [Fact]
    public void TrainThenSampleEvaluateLikelihoodExportThermo()
    {
        using var tmp = new TempDir();
        string dir = tmp.Path;
        string data = CliHarness.WriteCsv(dir), model = Path.Combine(dir, "model.zip");

        var train = CliHarness.Run(CliHarness.TinyTrain(data, model, "--json"));
        Assert.True(train.ExitCode == 0, train.Error);
        using (var doc = JsonDocument.Parse(train.Out))
        {
            Assert.Equal(["x", "y"], doc.RootElement.GetProperty("columns").EnumerateArray().Select(e => e.GetString()!).ToArray());
            Assert.Equal(200, doc.RootElement.GetProperty("rows").GetInt32());
        }
        Assert.True(File.Exists(model));

        string samples = Path.Combine(dir, "samples.csv");
        var sample = CliHarness.Run("sample", "--model", model, "--output", samples, "--count", "300", "--seed", "3", "--steps", "8");
        Assert.True(sample.ExitCode == 0, sample.Error);
        var lines = File.ReadAllLines(samples);
        Assert.Equal("x,y", lines[0]);                              // the training column names travel in the model zip
        Assert.Equal(301, lines.Length);
        var rows = lines.Skip(1).Select(l => l.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToArray();
        Assert.All(rows, r => Assert.True(double.IsFinite(r[0]) && double.IsFinite(r[1])));
        Assert.InRange(rows.Average(r => r[1]), 2.5, 3.5);          // y has mean 3 in the data

        var evaluate = CliHarness.Run("evaluate", "--model", model, "--data", data, "--json", "--no-likelihood");
        Assert.True(evaluate.ExitCode == 0, evaluate.Error);
        using (var doc = JsonDocument.Parse(evaluate.Out))
        {
            Assert.Equal(200, doc.RootElement.GetProperty("HeldOutRows").GetInt32());
            Assert.True(doc.RootElement.GetProperty("KineticCost").GetDouble() > 0);
            Assert.InRange(doc.RootElement.GetProperty("SlicedW2").GetDouble(), 0, 0.5);
        }

        string nll = Path.Combine(dir, "nll.csv");
        var likelihood = CliHarness.Run("likelihood", "--model", model, "--data", data, "--output", nll, "--steps", "16");
        Assert.True(likelihood.ExitCode == 0, likelihood.Error);
        var nllLines = File.ReadAllLines(nll);
        Assert.Equal("row,nll", nllLines[0]);
        Assert.Equal(201, nllLines.Length);
        Assert.All(nllLines.Skip(1), l => Assert.True(double.IsFinite(double.Parse(l.Split(',')[1], CultureInfo.InvariantCulture))));

        string onnx = Path.Combine(dir, "onnx");
        var export = CliHarness.Run("export", "--model", model, "--output", onnx, "--steps", "4");
        Assert.True(export.ExitCode == 0, export.Error);
        Assert.True(new FileInfo(Path.Combine(onnx, "network.onnx")).Length > 1000);
        Assert.True(new FileInfo(Path.Combine(onnx, "sampler.onnx")).Length > 1000);

        var thermo = CliHarness.Run("thermo", "--model", model, "--data", data, "--nfe", "2,8", "--json");
        Assert.True(thermo.ExitCode == 0, thermo.Error);
        using (var doc = JsonDocument.Parse(thermo.Out))
        {
            Assert.True(doc.RootElement.GetProperty("entropyProduction").GetDouble() > 0);
            Assert.Equal(2, doc.RootElement.GetProperty("speedAccuracy").GetArrayLength());
        }
        Assert.Empty(Directory.GetFiles(dir, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void ThermoOnAnExactMixturePrintsTheSpeedAccuracyTable()
    {
        var r = CliHarness.Run("thermo", "--mixture", "0.5:-2:0.5;0.5:2:0.5", "--json");
        Assert.True(r.ExitCode == 0, r.Error);
        using var doc = JsonDocument.Parse(r.Out);
        Assert.True(doc.RootElement.GetProperty("kineticCost").GetDouble() > 0);
        Assert.InRange(doc.RootElement.GetProperty("efficiency").GetDouble(), 0.05, 1.0);   // W2^2 / (tau c2) <= 1
        Assert.InRange(doc.RootElement.GetProperty("endpointW2").GetDouble(), 0.5, 3.0);     // the modes at +/-2 against ~N(0, 1)
        var rows = doc.RootElement.GetProperty("speedAccuracy").EnumerateArray().ToList();
        Assert.Equal(3, rows.Count);
        Assert.All(rows, e => Assert.True(e.GetProperty("HierarchyHolds").GetBoolean()));

        var bad = CliHarness.Run("thermo", "--mixture", "0.5:-2");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("weight:mean:sd", bad.Error);
    }

    [Fact]
    public void OptimizeAndSearchWriteTheirOutputs()
    {
        using var tmp = new TempDir();
        string dir = tmp.Path;
        string data = CliHarness.WriteCsv(dir, rows: 120), model = Path.Combine(dir, "model.zip");
        Assert.Equal(0, CliHarness.Run(CliHarness.TinyTrain(data, model)).ExitCode);

        string optimised = Path.Combine(dir, "opt.zip");
        var opt = CliHarness.Run("optimize", "--model", model, "--data", data, "--output", optimised, "--nfe", "4", "--json");
        Assert.True(opt.ExitCode == 0, opt.Error);
        Assert.True(File.Exists(optimised));
        Assert.True(File.Exists(optimised + ".report.json"));

        string folder = Path.Combine(dir, "search");
        var search = CliHarness.Run("search", "--model", model, "--data", data, "--output", folder, "--trials", "3", "--tuner", "random", "--seed", "2", "--json");
        Assert.True(search.ExitCode == 0, search.Error);
        using (var doc = JsonDocument.Parse(search.Out)) Assert.Equal(3, doc.RootElement.GetProperty("trials").GetInt32());
        Assert.True(File.Exists(Path.Combine(folder, "search.json")));
        Assert.StartsWith("nfe,test_sliced_w2", File.ReadAllLines(Path.Combine(folder, "pareto.csv"))[0]);
        var png = File.ReadAllBytes(Path.Combine(folder, "pareto.png"));
        Assert.Equal(0x89, png[0]);
        Assert.Equal((byte)'P', png[1]);
    }
}
