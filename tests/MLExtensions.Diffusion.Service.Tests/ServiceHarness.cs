using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;

namespace MLExtensions.Diffusion.Service.Tests;

/// <summary>The service in-process on a TestServer, over a temporary copy of the shipped models (penguins.zip, mixture.zip).</summary>
internal sealed class ServiceHarness : IAsyncDisposable
{
    private ServiceHarness(WebApplication app, string folder, ConcurrentQueue<string> logs)
    {
        App = app;
        Folder = folder;
        Logs = logs;
    }

    public WebApplication App { get; }

    public string Folder { get; }

    public ConcurrentQueue<string> Logs { get; }

    public HttpClient Client => App.GetTestClient();

    public ModelRegistry Registry => App.Services.GetRequiredService<ModelRegistry>();

    public ServiceTestHooks Hooks => App.Services.GetRequiredService<ServiceTestHooks>();

    public static async Task<ServiceHarness> StartAsync(Action<SamplerServiceOptions>? configure = null, bool testServer = true)
    {
        string folder = TempFolder();
        File.Copy(ShippedModel("penguins"), Path.Combine(folder, "penguins.zip"));
        File.Copy(ShippedModel("mixture"), Path.Combine(folder, "mixture.zip"));
        var logs = new ConcurrentQueue<string>();
        var builder = SamplerServiceHost.CreateBuilder([], o =>
        {
            o.ModelsFolder = folder;
            o.Engine = SamplingEngine.CSharp;
            o.ReloadPollInterval = TimeSpan.FromMilliseconds(200);
            o.ReloadDebounce = TimeSpan.FromMilliseconds(100);
            configure?.Invoke(o);
        });
        if (testServer) builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new ListLoggerProvider(logs));
        var app = builder.Build();
        app.UseSamplerService();
        await app.StartAsync();
        return new ServiceHarness(app, folder, logs);
    }

    /// <summary>Waits until <paramref name="condition"/> holds (polled), failing after 15 s.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            if (await condition()) return;
            await Task.Delay(50);
        }
        Assert.Fail($"Timed out waiting for {what}.");
    }

    public async Task<JsonElement> ModelAsync(string name)
    {
        var list = await Client.GetFromJsonAsync<JsonElement>("/v1/models");
        return list.GetProperty("models").EnumerateArray().Single(m => m.GetProperty("name").GetString() == name);
    }

    public static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "MLExtensions.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("The repository root (MLExtensions.sln) was not found.");
    }

    public static string ShippedModel(string name) => Path.Combine(RepositoryRoot(), "models", name, "model.zip");

    private static readonly ConcurrentDictionary<string, DiffusionModel> Models = new();

    /// <summary>The shipped model loaded by the library itself (the reference the service's answers are checked against).</summary>
    public static DiffusionModel Library(string name) => Models.GetOrAdd(name, n => DiffusionModel.Load(ShippedModel(n)));

    public static string TempFolder()
    {
        string dir = Path.Combine(Path.GetTempPath(), "mldiffusion-service-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    public async ValueTask DisposeAsync()
    {
        try { await App.StopAsync(); } catch (OperationCanceledException) { }
        await App.DisposeAsync();
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Collects every log line (to check what is logged, and that API keys are not).</summary>
internal sealed class ListLoggerProvider(ConcurrentQueue<string> lines) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new ListLogger(lines, categoryName);

    public void Dispose()
    {
    }

    private sealed class ListLogger(ConcurrentQueue<string> lines, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception}");
    }
}
