using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Prometheus;

namespace MLExtensions.Diffusion.Service;

/// <summary>
/// The library entry points for hosting the sampler service in an ASP.NET Core app: <see cref="AddSamplerService"/>
/// registers it, <see cref="UseSamplerService"/> adds its middleware and endpoints. <see cref="SamplerServiceHost"/>
/// builds a whole app from options.
/// </summary>
public static class SamplerServiceExtensions
{
    /// <summary>The name of the concurrency-limiter and request-timeout policies of the computing endpoints, "sampling".</summary>
    public const string ComputePolicy = "sampling";

    /// <summary>Registers the service: options, metrics, the model registry (a hosted service that loads the models at
    /// start and hot-reloads them), the API-key check, the concurrency limiter (429 when the queue is full), the request
    /// timeout (504), the request-body limit, the OpenAPI document and the shutdown timeout.</summary>
    /// <param name="services">The services.</param>
    /// <param name="options">The options (validated here; keep them unchanged afterwards).</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <exception cref="ArgumentException">An option is invalid (see <see cref="SamplerServiceOptions.Validate"/>).</exception>
    public static IServiceCollection AddSamplerService(this IServiceCollection services, SamplerServiceOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        services.AddSingleton(options);
        services.AddSingleton<ServiceMetrics>();
        services.AddSingleton<ModelRegistry>();
        services.AddHostedService(sp => sp.GetRequiredService<ModelRegistry>());
        services.AddSingleton(new ApiKeyAuthentication(options.ApiKeys));
        services.AddSingleton<ServiceTestHooks>();
        services.AddProblemDetails();
        services.AddOpenApi();
        services.AddRateLimiter(limiter =>
        {
            limiter.AddConcurrencyLimiter(ComputePolicy, c =>
            {
                c.PermitLimit = options.MaxConcurrentRequests;
                c.QueueLimit = options.QueueLimit;
                c.QueueProcessingOrder = QueueProcessingOrder.OldestFirst;
            });
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = async (context, _) =>
            {
                context.HttpContext.RequestServices.GetRequiredService<ServiceMetrics>().RequestsRefused.WithLabels("queue_full").Inc();
                context.HttpContext.Response.Headers.RetryAfter = "1";
                await Problems.Write(context.HttpContext, StatusCodes.Status429TooManyRequests, "Too many requests",
                    $"The service computes {options.MaxConcurrentRequests} request(s) at once (MaxConcurrentRequests) and queues {options.QueueLimit} (QueueLimit); " +
                    "the queue is full. Retry later.");
            };
        });
        services.AddRequestTimeouts(timeouts => timeouts.AddPolicy(ComputePolicy, new RequestTimeoutPolicy
        {
            Timeout = options.RequestTimeout,
            TimeoutStatusCode = StatusCodes.Status504GatewayTimeout,
            WriteTimeoutResponse = async context =>
            {
                context.RequestServices.GetRequiredService<ServiceMetrics>().RequestsRefused.WithLabels("timeout").Inc();
                await Problems.Write(context, StatusCodes.Status504GatewayTimeout, "Request timed out",
                    $"The request did not finish within {options.RequestTimeout.TotalSeconds:0.###} s (RequestTimeout), queueing included.");
            },
        }));
        services.Configure<KestrelServerOptions>(kestrel => kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes);
        services.Configure<HostOptions>(host => host.ShutdownTimeout = options.ShutdownTimeout);
        return services;
    }

    /// <summary>Adds the service's middleware (problem details for errors, HTTP metrics, API keys, request timeouts,
    /// concurrency limit) and endpoints: <c>GET /v1/models</c>, <c>POST /v1/models/{name}/samples</c>,
    /// <c>POST /v1/models/{name}/likelihood</c>, <c>GET /healthz</c>, <c>GET /metrics</c>, <c>GET /openapi/v1.json</c>.</summary>
    /// <param name="app">The app, built from services on which <see cref="AddSamplerService"/> ran.</param>
    /// <returns><paramref name="app"/>.</returns>
    public static WebApplication UseSamplerService(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var metrics = app.Services.GetRequiredService<ServiceMetrics>();
        var auth = app.Services.GetRequiredService<ApiKeyAuthentication>();
        app.UseExceptionHandler();
        app.UseRouting();
        app.UseHttpMetrics(o => o.SetMetricFactory(metrics.Factory));
        app.Use((context, next) => auth.InvokeAsync(context, next));
        app.UseRequestTimeouts();
        app.UseRateLimiter();

        app.MapGet("/healthz", (ModelRegistry registry) => Results.Ok(new { status = "ok", models = registry.Names.Count }))
            .WithName("Health").WithSummary("Liveness: 200 while the process serves; also the number of models served.");
        app.MapGet("/v1/models", ModelsEndpoint.Handle)
            .WithName("ListModels").WithSummary("The served models: name, dimension, columns, sampling plan, card.")
            .Produces<ModelList>();
        app.MapPost("/v1/models/{name}/samples", SamplesEndpoint.HandleAsync)
            .WithName("Sample").WithSummary("Generate rows (JSON or CSV, streamed); same seed, same rows.")
            .Accepts<SampleRequest>("application/json")
            .Produces<SampleResponse>(StatusCodes.Status200OK, "application/json", "text/csv")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status406NotAcceptable).ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status429TooManyRequests).ProducesProblem(StatusCodes.Status504GatewayTimeout)
            .RequireRateLimiting(ComputePolicy).WithRequestTimeout(ComputePolicy);
        app.MapPost("/v1/models/{name}/likelihood", LikelihoodEndpoint.HandleAsync)
            .WithName("Likelihood").WithSummary("Negative log-likelihood (nats, data units) of each row.")
            .Accepts<LikelihoodRequest>("application/json")
            .Produces<LikelihoodResponse>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status504GatewayTimeout)
            .RequireRateLimiting(ComputePolicy).WithRequestTimeout(ComputePolicy);
        app.MapMetrics("/metrics", metrics.Registry);
        app.MapOpenApi();
        return app;
    }
}
