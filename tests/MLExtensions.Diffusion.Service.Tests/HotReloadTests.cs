using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using static MLExtensions.Diffusion.Service.Tests.EndpointTests;

namespace MLExtensions.Diffusion.Service.Tests;

/// <summary>The registry over the models folder: corrupt files rejected with the old snapshot serving, good replacements
/// swapped in, requests in flight kept on their snapshot, deleted files unserved.</summary>
public sealed class HotReloadTests
{
    private static async Task<float[]> SampleAsync(ServiceHarness service, string model)
    {
        var response = await service.Client.PostAsync($"/v1/models/{model}/samples", Json("""{"count": 10, "seed": 4}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return Rows(await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    [Fact]
    public async Task CorruptFileIsRejectedAndTheOldModelKeepsServing()
    {
        await using var service = await ServiceHarness.StartAsync();
        string before = (await service.ModelAsync("penguins")).GetProperty("sha256").GetString()!;
        var expected = ServiceHarness.Library("penguins").Generate(10, 4);

        // A half-written copy of a model (its first 40 %) over the served file, and a garbage file under a new name.
        byte[] good = await File.ReadAllBytesAsync(ServiceHarness.ShippedModel("penguins"));
        await File.WriteAllBytesAsync(Path.Combine(service.Folder, "penguins.zip"), good[..(good.Length * 2 / 5)]);
        await File.WriteAllTextAsync(Path.Combine(service.Folder, "broken.zip"), "not a zip at all");
        await ServiceHarness.WaitUntilAsync(() => Task.FromResult(
            service.Logs.Count(l => l.Contains("Rejected model file", StringComparison.Ordinal)) >= 2), "both files to be rejected");

        Assert.Contains(service.Logs, l => l.Contains("penguins.zip") && l.Contains("the previous snapshot keeps serving"));
        Assert.Contains(service.Logs, l => l.Contains("broken.zip") && l.Contains("the model is not served"));
        Assert.Equal(before, (await service.ModelAsync("penguins")).GetProperty("sha256").GetString());
        Assert.Equal(expected, await SampleAsync(service, "penguins"));
        var list = await service.Client.GetFromJsonAsync<JsonElement>("/v1/models");
        Assert.Equal(["mixture", "penguins"], list.GetProperty("models").EnumerateArray().Select(m => m.GetProperty("name").GetString()!).ToArray());
        Assert.Contains("mldiffusion_model_reloads_total{model=\"penguins\",outcome=\"rejected\"}", await service.Client.GetStringAsync("/metrics"));

        // Finishing the write swaps the good file in again (same content: the snapshot is kept as is).
        await File.WriteAllBytesAsync(Path.Combine(service.Folder, "penguins.zip"), good);
        await ServiceHarness.WaitUntilAsync(async () =>
            (await service.Client.GetStringAsync("/metrics")).Contains("mldiffusion_model_reloads_total{model=\"penguins\",outcome=\"unchanged\"} 1"), "the rewritten file to be seen");
        Assert.Equal(expected, await SampleAsync(service, "penguins"));
    }

    [Fact]
    public async Task ReplacedGoodFileIsSwappedInWhileInFlightRequestsKeepTheirSnapshot()
    {
        await using var service = await ServiceHarness.StartAsync();
        string before = (await service.ModelAsync("penguins")).GetProperty("sha256").GetString()!;
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        service.Hooks.BeforeWork = async (_, _) =>
        {
            entered.TrySetResult();
            await gate.Task;
        };
        var inFlight = service.Client.PostAsync("/v1/models/penguins/samples", Json("""{"count": 10, "seed": 4}"""));
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        service.Hooks.BeforeWork = null;

        // Replace penguins.zip by another good model (the mixture model, dimension 2), atomically as AtomicFile does.
        string temp = Path.Combine(service.Folder, ".penguins.zip.tmp");
        File.Copy(ServiceHarness.ShippedModel("mixture"), temp);
        File.Move(temp, Path.Combine(service.Folder, "penguins.zip"), overwrite: true);
        await ServiceHarness.WaitUntilAsync(async () => (await service.ModelAsync("penguins")).GetProperty("dimension").GetInt32() == 2, "the replacement to be served");
        Assert.NotEqual(before, (await service.ModelAsync("penguins")).GetProperty("sha256").GetString());
        Assert.Contains(service.Logs, l => l.Contains("Model 'penguins' loaded") && l.Contains("replaced the previous snapshot"));
        Assert.Equal(ServiceHarness.Library("mixture").Generate(10, 4), await SampleAsync(service, "penguins"));

        gate.SetResult();
        var response = await inFlight;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(before, response.Headers.GetValues("X-Model-Sha256").Single());
        Assert.Equal(ServiceHarness.Library("penguins").Generate(10, 4), Rows(await response.Content.ReadFromJsonAsync<JsonElement>()));
    }

    [Fact]
    public async Task NewFileIsServedAndDeletedFileIsNot()
    {
        await using var service = await ServiceHarness.StartAsync();
        File.Copy(ServiceHarness.ShippedModel("mixture"), Path.Combine(service.Folder, "mixture-copy.zip"));
        await ServiceHarness.WaitUntilAsync(async () => (await service.Client.GetStringAsync("/v1/models")).Contains("mixture-copy"), "the new model");
        Assert.Equal(ServiceHarness.Library("mixture").Generate(10, 4), await SampleAsync(service, "mixture-copy"));
        File.Delete(Path.Combine(service.Folder, "mixture.zip"));
        await ServiceHarness.WaitUntilAsync(async () =>
            (await service.Client.PostAsync("/v1/models/mixture/samples", Json("""{"count": 1}"""))).StatusCode == HttpStatusCode.NotFound, "the deleted model to go");
    }
}
