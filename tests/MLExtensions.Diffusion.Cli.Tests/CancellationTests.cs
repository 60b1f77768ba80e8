using MLExtensions.Diffusion.Cli;

namespace MLExtensions.Diffusion.Cli.Tests;

/// <summary>Ctrl-C during training: the token cancels the library's training; no output file is left.</summary>
public sealed class CancellationTests
{
    [Fact]
    public void CancellingDuringTrainingExitsWith130AndWritesNothing()
    {
        using var tmp = new TempDir();
        string dir = tmp.Path;
        string data = CliHarness.WriteCsv(dir, rows: 100), model = Path.Combine(dir, "m.zip");
        using var cts = new CancellationTokenSource();
        int reports = 0;
        var r = CliHarness.Run(_ => { reports++; cts.Cancel(); }, cts.Token,
            ["train", "--data", data, "--output", model, "--steps", "100000", "--width", "32", "--depth", "2", "--batch-size", "32"]);
        Assert.Equal(ExitCodes.Cancelled, r.ExitCode);
        Assert.Equal(1, reports);                    // cancelled right after the first progress report
        Assert.Contains("Cancelled", r.Error);
        Assert.False(File.Exists(model));
        Assert.Equal([data], Directory.GetFiles(dir)); // no temporary or partial file either
    }
}
