namespace MLExtensions.Diffusion.Cli.Tests;

/// <summary><c>mldiffusion serve</c>: its refusals, and a start that the cancellation token stops cleanly.
/// The service itself is tested in tests/MLExtensions.Diffusion.Service.Tests.</summary>
public sealed class ServeCommandTests
{
    [Fact]
    public void MissingFolderIsAUserError()
    {
        var r = CliHarness.Run("serve", "--models", Path.Combine(Path.GetTempPath(), "no-such-models-" + Guid.NewGuid().ToString("N")));
        Assert.Equal(ExitCodes.UserError, r.ExitCode);
        Assert.Contains("does not exist", r.Error);
    }

    [Fact]
    public void NonLoopbackWithoutKeyIsRefused()
    {
        using var dir = new TempDir();
        var r = CliHarness.Run("serve", "--models", dir.Path, "--urls", "http://0.0.0.0:5399");
        Assert.Equal(ExitCodes.UserError, r.ExitCode);
        Assert.Contains("not a loopback address", r.Error);
        Assert.Contains("--api-key", r.Error);
    }

    [Fact]
    public void BadLimitIsAUsageOrUserError()
    {
        using var dir = new TempDir();
        Assert.Equal(ExitCodes.UsageError, CliHarness.Run("serve", "--models", dir.Path, "--max-rows", "many").ExitCode);
        var r = CliHarness.Run("serve", "--models", dir.Path, "--max-rows", "0");
        Assert.Equal(ExitCodes.UserError, r.ExitCode);
        Assert.Contains("MaxRowsPerRequest", r.Error);
    }

    [Fact]
    public void ServesUntilCancelled()
    {
        using var dir = new TempDir();
        File.Copy(Path.Combine(RepositoryRoot(), "models", "mixture", "model.zip"), Path.Combine(dir.Path, "mixture.zip"));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(12));   // start-up takes a few seconds on a loaded 2-core machine
        var r = CliHarness.Run(null, cts.Token, "serve", "--models", dir.Path, "--urls", "http://127.0.0.1:0", "--engine", "CSharp");
        Assert.True(r.ExitCode == ExitCodes.Ok, $"exit {r.ExitCode}\n{r.Out}\n{r.Error}");
        Assert.Contains("Starting the sampler service", r.Out);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MLExtensions.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("MLExtensions.sln not found above the test's folder.");
    }
}
