using System.CommandLine;
using MLExtensions.Diffusion.Service;

namespace MLExtensions.Diffusion.Cli;

/// <summary><c>mldiffusion serve</c>: the sampler service (MLExtensions.Diffusion.Service) over a folder of model files.</summary>
internal static class ServeCommand
{
    public static Command Create(CliContext ctx)
    {
        var models = new Option<string>("--models") { Description = "The folder of model zips to serve; each is named by its file name without .zip. Hot-reloaded.", Required = true };
        var urls = new Option<string?>("--urls") { Description = "Listen addresses, ';' separated (default http://127.0.0.1:5080). Any non-loopback address needs --api-key." };
        var apiKeys = new Option<string[]>("--api-key")
        {
            Description = "An accepted X-Api-Key value (repeat for several; or SamplerService__ApiKeys__0 in the environment, which keeps it off the process list). Never logged.",
        };
        var maxRows = new Option<int?>("--max-rows") { Description = "Most rows per samples request (default 100000)." };
        var maxLikelihoodRows = new Option<int?>("--max-likelihood-rows") { Description = "Most rows per likelihood request (default 10000)." };
        var maxNfe = new Option<int?>("--max-nfe") { Description = "Largest nfe a samples request may ask for (default 201)." };
        var maxBody = new Option<long?>("--max-body-bytes") { Description = "Largest request body in bytes (default 1048576); larger gets 413." };
        var timeout = new Option<double?>("--timeout") { Description = "Seconds a samples or likelihood request may take, queueing included (default 30); then 504." };
        var concurrency = new Option<int?>("--max-concurrency") { Description = "Samples and likelihood requests computed at once (default: the processor count)." };
        var queue = new Option<int?>("--queue") { Description = "Requests that may wait for a slot (default 64); beyond it 429." };
        var engine = new Option<SamplingEngine?>("--engine") { Description = "Onnx (default: ONNX Runtime, GPU when usable) or CSharp (the library's own engine, exactly model.Generate's rows)." };
        var provider = new Option<string?>("--provider") { Description = "ONNX Runtime provider: Auto (default: CUDA when usable, else CPU), Cpu, Cuda, TensorRt." };
        var cmd = new Command("serve",
            "Serve the models of a folder over HTTP: GET /v1/models, POST /v1/models/{name}/samples (JSON or CSV, streamed), " +
            "POST /v1/models/{name}/likelihood, GET /healthz, GET /metrics (Prometheus), GET /openapi/v1.json. Settings also bind from " +
            "the SamplerService configuration section (environment SamplerService__MaxRowsPerRequest=..., appsettings.json). " +
            "Ctrl-C or SIGTERM stops after the requests in flight finish. See docs/service.md.")
        {
            models, urls, apiKeys, maxRows, maxLikelihoodRows, maxNfe, maxBody, timeout, concurrency, queue, engine, provider,
        };
        cmd.SetAction(async (p, ct) =>
        {
            try
            {
                string folder = p.GetValue(models)!;
                if (!Directory.Exists(folder)) throw new CliException($"The models folder '{folder}' does not exist.");
                await SamplerServiceHost.RunAsync([], o =>
                {
                    o.ModelsFolder = folder;
                    if (p.GetValue(urls) is { } u) o.Urls = u;
                    if (p.GetValue(apiKeys) is { Length: > 0 } keys) o.ApiKeys = [.. o.ApiKeys, .. keys];
                    if (p.GetValue(maxRows) is { } r) o.MaxRowsPerRequest = r;
                    if (p.GetValue(maxLikelihoodRows) is { } lr) o.MaxLikelihoodRowsPerRequest = lr;
                    if (p.GetValue(maxNfe) is { } n) o.MaxNfe = n;
                    if (p.GetValue(maxBody) is { } b) o.MaxRequestBodyBytes = b;
                    if (p.GetValue(timeout) is { } t) o.RequestTimeout = TimeSpan.FromSeconds(t);
                    if (p.GetValue(concurrency) is { } c) o.MaxConcurrentRequests = c;
                    if (p.GetValue(queue) is { } q) o.QueueLimit = q;
                    if (p.GetValue(engine) is { } e) o.Engine = e;
                    if (p.GetValue(provider) is { } pr) o.ExecutionProvider = pr;
                    ctx.Out.WriteLine($"Starting the sampler service over the models in {Path.GetFullPath(folder)} on {o.Urls}" +
                                      (o.ApiKeys.Count > 0 ? $" ({o.ApiKeys.Count} API key(s) required)" : " (no API key)") +
                                      "; Ctrl-C stops after the requests in flight.");
                }, ct);
                return ExitCodes.Ok;
            }
            catch (OperationCanceledException)
            {
                // System.CommandLine would turn this into a silent exit code 1.
                ctx.Error.WriteLine("Cancelled before the service had started.");
                return ExitCodes.Cancelled;
            }
            catch (CliException e)
            {
                ctx.Error.WriteLine($"error: {e.Message}");
                return e.ExitCode;
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or DirectoryNotFoundException or IOException)
            {
                ctx.Error.WriteLine($"error: {e.Message}");
                return ExitCodes.UserError;
            }
        });
        return cmd;
    }
}
