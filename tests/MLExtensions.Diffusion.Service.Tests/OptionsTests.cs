using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace MLExtensions.Diffusion.Service.Tests;

public sealed class OptionsTests
{
    [Fact]
    public void OptionsBindFromConfigurationThenTheCallback()
    {
        string folder = ServiceHarness.TempFolder();
        try
        {
            var builder = SamplerServiceHost.CreateBuilder(
            [
                $"--SamplerService:ModelsFolder={folder}", "--SamplerService:MaxRowsPerRequest=7", "--SamplerService:RequestTimeout=00:00:05",
                "--SamplerService:Engine=CSharp", "--SamplerService:QueueLimit=3",
            ], o => o.QueueLimit = 9);
            var options = builder.Services.BuildServiceProvider().GetRequiredService<SamplerServiceOptions>();
            Assert.Equal(folder, options.ModelsFolder);
            Assert.Equal(7, options.MaxRowsPerRequest);
            Assert.Equal(TimeSpan.FromSeconds(5), options.RequestTimeout);
            Assert.Equal(SamplingEngine.CSharp, options.Engine);
            Assert.Equal(9, options.QueueLimit);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void InvalidOptionsNameTheSetting()
    {
        Assert.Equal("ModelsFolder", Assert.Throws<ArgumentException>(() => new SamplerServiceOptions().Validate()).ParamName);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new SamplerServiceOptions { ModelsFolder = "m", MaxRowsPerRequest = 0 }.Validate());
        Assert.Equal("MaxRowsPerRequest", e.ParamName);
        Assert.Equal("ExecutionProvider", Assert.Throws<ArgumentException>(() => new SamplerServiceOptions { ModelsFolder = "m", ExecutionProvider = "Gpu9" }.Validate()).ParamName);
        Assert.Equal("QueueLimit", Assert.Throws<ArgumentOutOfRangeException>(() => new SamplerServiceOptions { ModelsFolder = "m", QueueLimit = -1 }.Validate()).ParamName);
        new SamplerServiceOptions { ModelsFolder = "m", ExecutionProvider = "cuda" }.Validate();
    }

    [Fact]
    public async Task MissingModelsFolderFailsStartup()
    {
        var app = SamplerServiceHost.Build([], o => o.ModelsFolder = Path.Combine(Path.GetTempPath(), "no-such-folder-" + Guid.NewGuid().ToString("N")));
        var e = await Assert.ThrowsAsync<DirectoryNotFoundException>(() => app.StartAsync());
        Assert.Contains("does not exist", e.Message);
        await app.DisposeAsync();
    }
}
