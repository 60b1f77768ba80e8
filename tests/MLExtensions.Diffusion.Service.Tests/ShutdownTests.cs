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
