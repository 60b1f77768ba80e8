using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MLExtensions.Diffusion.Service;

/// <summary>
/// Builds and runs the sampler service as a whole app on Kestrel (what <c>mldiffusion serve</c> runs): options bound from
/// the configuration section <see cref="SamplerServiceOptions.SectionName"/> (command line, environment, appsettings) and
/// then adjusted by a callback, the loopback rule enforced, <see cref="SamplerServiceExtensions"/> applied.
/// </summary>
/// <example>
/// <code>
/// await SamplerServiceHost.RunAsync(args, o => { o.ModelsFolder = "models"; o.Urls = "http://127.0.0.1:5080"; });
/// </code>
/// </example>
public static class SamplerServiceHost
{
    /// <summary>A builder with the service registered and Kestrel bound to <see cref="SamplerServiceOptions.Urls"/>.</summary>
    /// <param name="args">Command-line arguments for the configuration (e.g. <c>--SamplerService:ModelsFolder=models</c>).</param>
    /// <param name="configure">Adjusts the options after binding; null for none.</param>
    /// <returns>The builder (add more services, or <c>UseTestServer</c> in tests), then <c>Build()</c> and
    /// <see cref="SamplerServiceExtensions.UseSamplerService"/>.</returns>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    /// <exception cref="InvalidOperationException">An address is not loopback and no API key is configured.</exception>
    public static WebApplicationBuilder CreateBuilder(string[] args, Action<SamplerServiceOptions>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args });
        // Per-request framework logs only from warnings up (configuration can lower it); the service logs its own events.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        var options = new SamplerServiceOptions();
        builder.Configuration.GetSection(SamplerServiceOptions.SectionName).Bind(options);
        configure?.Invoke(options);
        options.Validate();
        string[] urls = options.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        RequireKeysOffLoopback(urls, options);
        builder.WebHost.UseUrls(urls);
        builder.Services.AddSamplerService(options);
        return builder;
    }

    /// <summary>Builds the app: <see cref="CreateBuilder"/>, <c>Build()</c>, <see cref="SamplerServiceExtensions.UseSamplerService"/>.</summary>
    /// <param name="args">Command-line arguments for the configuration.</param>
    /// <param name="configure">Adjusts the options after binding; null for none.</param>
    /// <returns>The app, not started.</returns>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    /// <exception cref="InvalidOperationException">An address is not loopback and no API key is configured.</exception>
    public static WebApplication Build(string[] args, Action<SamplerServiceOptions>? configure = null)
    {
        var app = CreateBuilder(args, configure).Build();
        app.UseSamplerService();
        return app;
    }

    /// <summary>Runs the service until <paramref name="cancellationToken"/> fires or the host is told to stop (Ctrl-C,
    /// SIGTERM); stopping finishes the requests in flight (up to <see cref="SamplerServiceOptions.ShutdownTimeout"/>).</summary>
    /// <param name="args">Command-line arguments for the configuration.</param>
    /// <param name="configure">Adjusts the options after binding; null for none.</param>
    /// <param name="cancellationToken">Stops the service.</param>
    /// <returns>A task that completes when the service has stopped.</returns>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    /// <exception cref="InvalidOperationException">An address is not loopback and no API key is configured.</exception>
    /// <exception cref="DirectoryNotFoundException">The models folder does not exist.</exception>
    public static async Task RunAsync(string[] args, Action<SamplerServiceOptions>? configure = null, CancellationToken cancellationToken = default)
    {
        await using var app = Build(args, configure);
        await app.StartAsync(cancellationToken);
        var options = app.Services.GetRequiredService<SamplerServiceOptions>();
        var addresses = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        try
        {
            RequireKeysOffLoopback(addresses.ToArray(), options);
        }
        catch (InvalidOperationException)
        {
            await app.StopAsync(CancellationToken.None);
            throw;
        }
        using var stop = cancellationToken.Register(() => app.Lifetime.StopApplication());
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var onStopping = app.Lifetime.ApplicationStopping.Register(() => stopped.TrySetResult());
        await stopped.Task;
        await app.StopAsync(CancellationToken.None);
    }

    /// <summary>Throws unless every address is loopback or an API key is configured.</summary>
    /// <exception cref="InvalidOperationException">An address is not loopback and <see cref="SamplerServiceOptions.ApiKeys"/> is empty.</exception>
    internal static void RequireKeysOffLoopback(IReadOnlyList<string> urls, SamplerServiceOptions options)
    {
        if (options.ApiKeys.Count > 0) return;
        foreach (var url in urls)
            if (!IsLoopback(url))
                throw new InvalidOperationException(
                    $"The service would listen on '{url}', which is not a loopback address, without authentication. Set at least one API key " +
                    $"(--api-key, or {SamplerServiceOptions.SectionName}__ApiKeys__0 in the environment) or listen on 127.0.0.1 / [::1] / localhost only.");
    }

    /// <summary>Whether a listen address (e.g. http://127.0.0.1:5080, http://*:80, http://[::1]:5000) is loopback only.</summary>
    internal static bool IsLoopback(string url)
    {
        int scheme = url.IndexOf("://", StringComparison.Ordinal);
        string rest = scheme >= 0 ? url[(scheme + 3)..] : url;
        int slash = rest.IndexOf('/');
        if (slash >= 0) rest = rest[..slash];
        string host;
        if (rest.StartsWith('['))
        {
            int close = rest.IndexOf(']');
            host = close > 0 ? rest[1..close] : rest;
        }
        else
        {
            int colon = rest.LastIndexOf(':');
            host = colon >= 0 ? rest[..colon] : rest;
        }
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)) return true;
        return IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address);
    }
}
