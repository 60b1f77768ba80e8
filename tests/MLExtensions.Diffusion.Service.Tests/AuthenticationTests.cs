using System.Net;
using static MLExtensions.Diffusion.Service.Tests.EndpointTests;

namespace MLExtensions.Diffusion.Service.Tests;

public sealed class AuthenticationTests
{
    private const string Key = "s3cret-key-for-tests-0123456789";

    [Fact]
    public async Task KeyRequiredEverywhereButHealthAndNeverLogged()
    {
        await using var service = await ServiceHarness.StartAsync(o => o.ApiKeys = ["another-key", Key]);
        var client = service.Client;
        var missing = await client.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Contains("no 'X-Api-Key' header", await missing.Content.ReadAsStringAsync());

        var wrong = new HttpRequestMessage(HttpMethod.Post, "/v1/models/penguins/samples") { Content = Json("""{"count": 3}""") };
        wrong.Headers.Add("X-Api-Key", Key + "x");
        var wrongResponse = await client.SendAsync(wrong);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongResponse.StatusCode);
        Assert.DoesNotContain(Key, await wrongResponse.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/metrics")).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        var right = new HttpRequestMessage(HttpMethod.Post, "/v1/models/penguins/samples") { Content = Json("""{"count": 3}""") };
        right.Headers.Add("X-Api-Key", Key);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(right)).StatusCode);

        Assert.NotEmpty(service.Logs);
        Assert.DoesNotContain(service.Logs, line => line.Contains(Key, StringComparison.Ordinal) || line.Contains("another-key", StringComparison.Ordinal));
    }

    [Fact]
    public void StartupFailsOffLoopbackWithoutAKey()
    {
        string folder = ServiceHarness.TempFolder();
        try
        {
            var e = Assert.Throws<InvalidOperationException>(() => SamplerServiceHost.CreateBuilder([], o => { o.ModelsFolder = folder; o.Urls = "http://0.0.0.0:5080"; }));
            Assert.Contains("'http://0.0.0.0:5080', which is not a loopback address", e.Message);
            Assert.Throws<InvalidOperationException>(() => SamplerServiceHost.CreateBuilder([], o => { o.ModelsFolder = folder; o.Urls = "http://127.0.0.1:5080;http://*:8080"; }));
            SamplerServiceHost.CreateBuilder([], o => { o.ModelsFolder = folder; o.Urls = "http://0.0.0.0:5080"; o.ApiKeys = [Key]; });
            SamplerServiceHost.CreateBuilder([], o => { o.ModelsFolder = folder; o.Urls = "http://localhost:5080;http://[::1]:5081"; });
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("http://127.0.0.1:5080", true)]
    [InlineData("http://127.0.0.2:5080", true)]
    [InlineData("http://[::1]:5080", true)]
    [InlineData("https://localhost:443/", true)]
    [InlineData("http://0.0.0.0:5080", false)]
    [InlineData("http://*:5080", false)]
    [InlineData("http://+:5080", false)]
    [InlineData("http://[::]:5080", false)]
    [InlineData("http://example.com:80", false)]
    [InlineData("http://10.0.0.5:80", false)]
    public void LoopbackAddressesAreRecognised(string url, bool loopback) => Assert.Equal(loopback, SamplerServiceHost.IsLoopback(url));

    [Fact]
    public void KeysCompareByValue()
    {
        var auth = new ApiKeyAuthentication(["a", "bcd"]);
        Assert.True(auth.IsValid("bcd"));
        Assert.False(auth.IsValid("bc"));
        Assert.False(auth.IsValid(""));
        Assert.False(new ApiKeyAuthentication([]).Enabled);
    }
}
