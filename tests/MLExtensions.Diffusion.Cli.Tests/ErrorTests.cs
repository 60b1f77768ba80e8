using MLExtensions.Diffusion.Cli;
using Parquet.Serialization;

namespace MLExtensions.Diffusion.Cli.Tests;

/// <summary>User mistakes: a clear message on standard error, no stack trace, a meaningful exit code, no output file.</summary>
public sealed class ErrorTests
{
    private static void AssertNoStackTrace(CliHarness.Result r)
    {
        Assert.DoesNotContain("   at ", r.Error);
        Assert.DoesNotContain("Exception", r.Error);
        Assert.StartsWith("error: ", r.Error);
    }

    [Fact]
    public void MissingDataFileIsAUserError()
    {
        using var tmp = new TempDir();
        string dir = tmp.Path;
        string model = Path.Combine(dir, "m.zip");
        var r = CliHarness.Run(CliHarness.TinyTrain(Path.Combine(dir, "nope.csv"), model));
        Assert.Equal(ExitCodes.UserError, r.ExitCode);
        Assert.Contains("nope.csv' does not exist", r.Error);
        AssertNoStackTrace(r);
        Assert.False(File.Exists(model));

        var sample = CliHarness.Run("sample", "--model", Path.Combine(dir, "missing.zip"), "--output", Path.Combine(dir, "s.csv"));
        Assert.Equal(ExitCodes.UserError, sample.ExitCode);
        Assert.Contains("missing.zip' does not exist", sample.Error);
    }

    [Fact]
    public void UnknownColumnIsADataErrorListingTheColumns()
    {
        using var tmp = new TempDir();
        string dir = tmp.Path;
        string data = CliHarness.WriteCsv(dir, rows: 20), model = Path.Combine(dir, "m.zip");
        var r = CliHarness.Run(CliHarness.TinyTrain(data, model, "--columns", "x,flipper"));
        Assert.Equal(ExitCodes.DataError, r.ExitCode);
        Assert.Contains("Column 'flipper' is not in", r.Error);
        Assert.Contains("x, y, species", r.Error);
        AssertNoStackTrace(r);
        Assert.False(File.Exists(model));
    }

    [Fact]
    public void TextColumnSelectedAsAFeatureIsADataErrorNamingIt()
    {
        using var tmp = new TempDir();
        string dir = tmp.Path;
        string data = CliHarness.WriteCsv(dir, rows: 20), model = Path.Combine(dir, "m.zip");
        var r = CliHarness.Run(CliHarness.TinyTrain(data, model, "--columns", "x,species"));
        Assert.Equal(ExitCodes.DataError, r.ExitCode);
        Assert.Contains("Column 'species'", r.Error);
        Assert.Contains("is text", r.Error);
        AssertNoStackTrace(r);
        Assert.False(File.Exists(model));
    }

    [Fact]
    public void EmptyCellsAreMissingValuesNotZeros()
    {
        using var tmp = new TempDir();
        string dir = tmp.Path;
        string data = Path.Combine(dir, "gaps.csv");
        var lines = new List<string> { "x,y" };
        var random = new Random(3);
        for (int i = 0; i < 60; i++) lines.Add($"{random.Next(10, 20)},{random.Next(50, 60)}");
        lines[5] = "12,";        // row 4 (1-based data row): y missing
        lines[9] = ",55";        // row 8: x missing
        File.WriteAllLines(data, lines);
        string model = Path.Combine(dir, "m.zip");

        var error = CliHarness.Run(CliHarness.TinyTrain(data, model));
        Assert.Equal(ExitCodes.DataError, error.ExitCode);
        Assert.Contains("Row 5", error.Error);
        Assert.Contains("column 'y'", error.Error);
        Assert.Contains("--missing drop", error.Error);
        AssertNoStackTrace(error);
        Assert.False(File.Exists(model));

        var drop = CliHarness.Run(CliHarness.TinyTrain(data, model, "--missing", "drop", "--json"));
        Assert.True(drop.ExitCode == 0, drop.Error);
        Assert.Contains("\"rows\": 58", drop.Out);           // 60 rows, 2 dropped, none read as 0
        Assert.Contains("\"droppedRows\": 2", drop.Out);

        // The table reader itself: an empty cell is NaN until handled, never 0.
        var t = TableReader.Read(data, null, MissingMode.Drop);
        Assert.DoesNotContain(0f, t.Values);
    }

    [Theory]
    [InlineData("--steps", "many")]
    [InlineData("--steps", "0")]
    [InlineData("--missing", "ignore")]
    [InlineData("--schedule", "linear")]
    [InlineData("--no-such-option", "1")]
    public void BadOptionValueIsAUsageError(string option, string value)
    {
        using var tmp = new TempDir();
        string dir = tmp.Path;
        string data = CliHarness.WriteCsv(dir, rows: 20), model = Path.Combine(dir, "m.zip");
        var r = CliHarness.Run(CliHarness.TinyTrain(data, model, option, value));
        Assert.Equal(ExitCodes.UsageError, r.ExitCode);
        Assert.Contains(option, r.Error);
        Assert.DoesNotContain("   at ", r.Error);
        Assert.False(File.Exists(model));
    }

    [Fact]
    public void UnknownCommandAndMissingRequiredOptionAreUsageErrors()
    {
        Assert.Equal(ExitCodes.UsageError, CliHarness.Run("fly").ExitCode);
        var r = CliHarness.Run("train", "--data", "x.csv");
        Assert.Equal(ExitCodes.UsageError, r.ExitCode);
        Assert.Contains("--output", r.Error);
    }

    [Fact]
    public void ModelAndDataWithDifferentWidthsIsAClearError()
    {
        using var tmp = new TempDir();
        string dir = tmp.Path;
        string data = CliHarness.WriteCsv(dir, rows: 60), model = Path.Combine(dir, "m.zip");
        Assert.Equal(0, CliHarness.Run(CliHarness.TinyTrain(data, model, "--columns", "x")).ExitCode);
        var r = CliHarness.Run("likelihood", "--model", model, "--data", data, "--columns", "x,y", "--output", Path.Combine(dir, "n.csv"));
        Assert.Equal(ExitCodes.DataError, r.ExitCode);
        Assert.Contains("The model has 1 features but 2 columns", r.Error);
        Assert.False(File.Exists(Path.Combine(dir, "n.csv")));
    }

    [Fact]
    public async Task ParquetInputTrainsAndNullsAreMissingValues()
    {
        using var tmp = new TempDir();
        string dir = tmp.Path;
        string path = Path.Combine(dir, "data.parquet");
        var random = new Random(5);
        var records = Enumerable.Range(0, 80).Select(i => new ParquetRecord
        {
            A = random.NextDouble(), B = i == 7 ? null : 2 + random.NextDouble(), Name = "n" + i,
        }).ToList();
        await using (var stream = File.Create(path)) await ParquetSerializer.SerializeAsync(records, stream);
        string model = Path.Combine(dir, "m.zip");

        var error = CliHarness.Run(CliHarness.TinyTrain(path, model));
        Assert.Equal(ExitCodes.DataError, error.ExitCode);
        Assert.Contains("Row 8", error.Error);
        Assert.Contains("column 'B'", error.Error);

        var text = CliHarness.Run(CliHarness.TinyTrain(path, model, "--columns", "A,Name"));
        Assert.Equal(ExitCodes.DataError, text.ExitCode);
        Assert.Contains("Column 'Name'", text.Error);

        var ok = CliHarness.Run(CliHarness.TinyTrain(path, model, "--missing", "drop", "--json"));
        Assert.True(ok.ExitCode == 0, ok.Error);
        Assert.Contains("\"rows\": 79", ok.Out);
        Assert.Contains("\"A\"", ok.Out);
        Assert.DoesNotContain("\"Name\"", ok.Out);   // the text column is not a default feature
    }

    public sealed class ParquetRecord
    {
        public double A { get; set; }
        public double? B { get; set; }
        public string Name { get; set; } = "";
    }
}
