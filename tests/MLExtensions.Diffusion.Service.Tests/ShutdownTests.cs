using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using static MLExtensions.Diffusion.Service.Tests.EndpointTests;

namespace MLExtensions.Diffusion.Service.Tests;

public sealed class ShutdownTests
{
    [Fact]
    public async Task StoppingOnKestrelFinishesTheRequestInFlight()
    {
        await using var service = await ServiceHarness.StartAsync(o => o.Urls = "http://127.0.0.1:0", testServer: false);
        string address = service.App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        using var client = new HttpClient { BaseAddress = new Uri(address) };
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        service.Hooks.BeforeWork = async (_, _) =>
        {
            entered.TrySetResult();
            await Task.Delay(500);   // still computing when the stop begins
        };
        var inFlight = client.PostAsync("/v1/models/penguins/samples", Json("""{"count": 10, "seed": 4}"""));
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var stop = service.App.StopAsync();
        var response = await inFlight;
        await stop;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(ServiceHarness.Library("penguins").Generate(10, 4), Rows(await response.Content.ReadFromJsonAsync<JsonElement>()));
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.GetAsync("/healthz"));
    }
}

public sealed class StreamingTimeoutTests
{
    [Fact]
    public async Task TimeoutWhileStreamingNeverLooksLikeACompleteResponse()
    {
        await using var service = await ServiceHarness.StartAsync(o => { o.Urls = "http://127.0.0.1:0"; o.RequestTimeout = TimeSpan.FromSeconds(0.5); }, testServer: false);
        string address = service.App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        using var client = new HttpClient { BaseAddress = new Uri(address) };
        // Far more rows than 0.5 s allows (25 chunks of 4096 at NFE 3): the timeout fires before the first chunk (504) or while
        // rows stream (aborted). It is checked between chunks, so the request may overrun it by one chunk's computation.
        string? outcome = null;
        try
        {
            using var response = await client.PostAsync("/v1/models/mixture/samples", Json("""{"count": 100000, "seed": 1, "nfe": 3}"""));
            if (response.StatusCode == HttpStatusCode.GatewayTimeout) outcome = "504";
            else
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                await response.Content.ReadAsStringAsync();   // must fail: the body is cut off
                outcome = "complete";
            }
        }
        catch (HttpRequestException)
        {
            outcome = "aborted";
        }
        Assert.True(outcome is "504" or "aborted", $"outcome {outcome}");
        Assert.Contains("mldiffusion_requests_refused_total{reason=\"timeout\"} 1", await client.GetStringAsync("/metrics"));
    }
}
