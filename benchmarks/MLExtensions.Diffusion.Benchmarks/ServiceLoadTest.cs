using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.Service;

namespace MLExtensions.Diffusion.Benchmarks;

/// <summary>
/// Loopback load test of the sampler service (issue 13): starts the service on 127.0.0.1 (an ephemeral port) over a
/// temporary copy of the shipped models (penguins.zip, mixture.zip), holds N concurrent clients (one HttpClient each)
/// posting samples requests for a fixed time, and reports requests/s, rows/s, p50/p99 latency and errors in three equal
/// phases: steady; after a corrupt file is dropped into the folder (garbage as broken.zip, and the first 40 % of a model
/// written over mixture.zip, as a crashed copy would leave it); after penguins.zip is overwritten in place (a plain
/// File.Copy, so half-written states are visible to the watcher) by a new good version of the model (another sampling
/// plan: the default grid with 10 Heun steps, NFE 19). At the end it checks what the registry did: broken.zip not served,
/// mixture still on its original snapshot, penguins on the new plan.
/// </summary>
/// <remarks>Usage: serve-load [clients=8] [seconds=30] [rows=64] [engine=Onnx|CSharp]. Every request must be a 200 with
/// exactly the asked rows; anything else counts as an error.</remarks>
internal static class ServiceLoadTest
{
    private sealed record Sample(int Phase, double Milliseconds, bool Ok, string? Error);

    public static void Run(string[] args) => RunAsync(args).GetAwaiter().GetResult();

    private static async Task RunAsync(string[] args)
    {
        int clients = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 8;
        double seconds = args.Length > 2 ? double.Parse(args[2], CultureInfo.InvariantCulture) : 30;
        int rows = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 64;
        var engine = args.Length > 4 ? Enum.Parse<SamplingEngine>(args[4], ignoreCase: true) : SamplingEngine.Onnx;
        string shipped = ShippedData.ModelsFolder();
        string folder = Path.Combine(Path.GetTempPath(), "mldiffusion-serve-load", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        File.Copy(Path.Combine(shipped, "penguins", "model.zip"), Path.Combine(folder, "penguins.zip"));
        File.Copy(Path.Combine(shipped, "mixture", "model.zip"), Path.Combine(folder, "mixture.zip"));
        // The replacement: the same network with another plan (a new good version of penguins.zip), prepared up front.
        string replacement = Path.Combine(Path.GetTempPath(), $"mldiffusion-serve-load-{Guid.NewGuid():N}.zip");
        var penguins = DiffusionModel.Load(Path.Combine(shipped, "penguins", "model.zip"));
        penguins.WithSamplingPlan(penguins.DefaultSamplingPlan(10)).Save(replacement);

        await using var app = SamplerServiceHost.Build([], o =>
        {
            o.ModelsFolder = folder;
            o.Urls = "http://127.0.0.1:0";
            o.Engine = engine;
            o.QueueLimit = 4 * clients;
            o.ReloadPollInterval = TimeSpan.FromSeconds(1);
            o.ReloadDebounce = TimeSpan.FromMilliseconds(300);
        });
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        var options = app.Services.GetRequiredService<SamplerServiceOptions>();
        Console.WriteLine($"serve-load: {clients} clients, {seconds} s in 3 phases, {rows} rows per request, engine {engine}, " +
                          $"{options.MaxConcurrentRequests} computed at once, cores={Environment.ProcessorCount}, service at {address}");
        string sha = await ShaAsync(address, "mixture");

        var samples = new System.Collections.Concurrent.ConcurrentBag<Sample>();
        int phase = 0;
        var clock = Stopwatch.StartNew();
        var deadline = TimeSpan.FromSeconds(seconds);
        var workers = Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            using var http = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(60) };
            int i = 0;
            while (clock.Elapsed < deadline)
            {
                string model = (c + i) % 2 == 0 ? "penguins" : "mixture";
                int seed = c * 1_000_000 + i++;
                int current = Volatile.Read(ref phase);
                var watch = Stopwatch.StartNew();
                string? error = null;
                try
                {
                    using var response = await http.PostAsync($"/v1/models/{model}/samples",
                        new StringContent($"{{\"count\": {rows}, \"seed\": {seed}}}", Encoding.UTF8, "application/json"));
                    var body = await response.Content.ReadAsByteArrayAsync();
                    if (response.StatusCode != HttpStatusCode.OK) error = $"{(int)response.StatusCode}: {Encoding.UTF8.GetString(body)}";
                    else
                    {
                        using var doc = JsonDocument.Parse(body);
                        int got = doc.RootElement.GetProperty("rows").GetArrayLength();
                        if (got != rows) error = $"{got} rows instead of {rows}";
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or IOException)
                {
                    error = e.GetType().Name + ": " + e.Message;
                }
                samples.Add(new Sample(current, watch.Elapsed.TotalMilliseconds, error is null, error));
            }
        })).ToArray();

        await Task.Delay(TimeSpan.FromSeconds(seconds / 3));
        // Phase 1: a corrupt file is dropped in, and a served model's file is overwritten by a truncated copy.
        byte[] mixtureBytes = await File.ReadAllBytesAsync(Path.Combine(shipped, "mixture", "model.zip"));
        await File.WriteAllTextAsync(Path.Combine(folder, "broken.zip"), "this is not a model");
        await File.WriteAllBytesAsync(Path.Combine(folder, "mixture.zip"), mixtureBytes[..(mixtureBytes.Length * 2 / 5)]);
        Volatile.Write(ref phase, 1);
        await Task.Delay(TimeSpan.FromSeconds(seconds / 3));
        // Phase 2: penguins.zip overwritten in place by a new good version.
        File.Copy(replacement, Path.Combine(folder, "penguins.zip"), overwrite: true);
        Volatile.Write(ref phase, 2);
        await Task.WhenAll(workers);
        double elapsed = clock.Elapsed.TotalSeconds;

        // What the registry did.
        using var check = new HttpClient { BaseAddress = new Uri(address) };
        using var list = JsonDocument.Parse(await check.GetStringAsync("/v1/models"));
        var served = list.RootElement.GetProperty("models").EnumerateArray().ToDictionary(m => m.GetProperty("name").GetString()!, m => m.Clone());
        string metrics = await check.GetStringAsync("/metrics");
        await app.StopAsync();
        File.Delete(replacement);
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { }

        string[] names = ["steady", "corrupt file dropped", "good file replaced"];
        Console.WriteLine();
        Console.WriteLine($"{"phase",-22} {"requests",9} {"req/s",8} {"rows/s",9} {"p50 ms",8} {"p99 ms",8} {"errors",7}");
        var all = samples.ToList();
        double phaseSeconds = seconds / 3;
        for (int p = 0; p <= 3; p++)
        {
            var set = p < 3 ? all.Where(s => s.Phase == p).ToList() : all;
            double span = p < 3 ? phaseSeconds : elapsed;
            var lat = set.Select(s => s.Milliseconds).OrderBy(x => x).ToArray();
            int ok = set.Count(s => s.Ok);
            Console.WriteLine($"{(p < 3 ? names[p] : "all"),-22} {set.Count,9} {set.Count / span,8:F1} {ok * (double)rows / span,9:F0} " +
                              $"{Percentile(lat, 0.50),8:F1} {Percentile(lat, 0.99),8:F1} {set.Count - ok,7}");
        }
        foreach (var e in all.Where(s => !s.Ok).Select(s => s.Error).Distinct().Take(5)) Console.WriteLine($"  error: {e}");
        Console.WriteLine();
        Console.WriteLine($"registry: serving [{string.Join(", ", served.Keys.Order())}]; broken.zip served: {served.ContainsKey("broken")}; " +
                          $"mixture kept its snapshot: {served["mixture"].GetProperty("sha256").GetString() == sha}; " +
                          $"penguins plan now: {served["penguins"].GetProperty("plan").GetProperty("description").GetString()}");
        foreach (var line in metrics.Split('\n').Where(l => l.StartsWith("mldiffusion_model_reloads_total", StringComparison.Ordinal) || l.StartsWith("mldiffusion_rows_generated_total", StringComparison.Ordinal)))
            Console.WriteLine($"  {line}");
    }

    private static async Task<string> ShaAsync(string address, string model)
    {
        using var http = new HttpClient { BaseAddress = new Uri(address) };
        using var list = JsonDocument.Parse(await http.GetStringAsync("/v1/models"));
        return list.RootElement.GetProperty("models").EnumerateArray().Single(m => m.GetProperty("name").GetString() == model).GetProperty("sha256").GetString()!;
    }

    private static double Percentile(double[] sorted, double q) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
}
