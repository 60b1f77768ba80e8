using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using static MLExtensions.Diffusion.Service.Tests.EndpointTests;

namespace MLExtensions.Diffusion.Service.Tests;

/// <summary>Every refusal is RFC 7807 problem details with the right status, naming the field when there is one.</summary>
public sealed class RejectionTests
{
    private static async Task<JsonElement> Problem(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static async Task<string> FieldError(HttpResponseMessage response, string field)
    {
        var problem = await Problem(response, HttpStatusCode.BadRequest);
        Assert.Equal(field, problem.GetProperty("field").GetString());
        return problem.GetProperty("errors").GetProperty(field)[0].GetString()!;
    }

    [Fact]
    public async Task BadSampleRequestsNameTheField()
    {
        await using var service = await ServiceHarness.StartAsync(o => o.MaxRowsPerRequest = 1000);
        var client = service.Client;
        async Task<HttpResponseMessage> Post(string body) => await client.PostAsync("/v1/models/penguins/samples", Json(body));

        Assert.Contains("not a valid samples request", await FieldError(await Post("""{"count": 10,"""), "body"));
        Assert.Contains("not a valid samples request", await FieldError(await Post("""{"count": "ten"}"""), "count"));
        Assert.Contains("'count' is required", await FieldError(await Post("{}"), "count"));
        Assert.Contains("limit of 1000 rows", await FieldError(await Post("""{"count": 1001}"""), "count"));
        Assert.Contains("at least 1", await FieldError(await Post("""{"count": 0}"""), "count"));
        Assert.Contains("Heun", await FieldError(await Post("""{"count": 5, "nfe": 8}"""), "nfe"));
        Assert.Contains("'plan'", await FieldError(await Post("""{"count": 5, "plan": "fast"}"""), "plan"));
        Assert.Contains("'format'", await FieldError(await Post("""{"count": 5, "format": "xml"}"""), "format"));
        var unknown = await Problem(await Post("""{"count": 5, "colour": "red"}"""), HttpStatusCode.BadRequest);
        Assert.Contains("colour", unknown.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task UnknownModelIs404NamingTheServedOnes()
    {
        await using var service = await ServiceHarness.StartAsync();
        var problem = await Problem(await service.Client.PostAsync("/v1/models/whales/samples", Json("""{"count": 5}""")), HttpStatusCode.NotFound);
        Assert.Contains("'whales'", problem.GetProperty("detail").GetString());
        Assert.Contains("mixture, penguins", problem.GetProperty("detail").GetString());
        await Problem(await service.Client.PostAsync("/v1/models/whales/likelihood", Json("""{"rows": [[1, 2]]}""")), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task UnacceptableAcceptHeaderIs406()
    {
        await using var service = await ServiceHarness.StartAsync();
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/models/penguins/samples") { Content = Json("""{"count": 5}""") };
        request.Headers.Accept.ParseAdd("application/xml");
        await Problem(await service.Client.SendAsync(request), HttpStatusCode.NotAcceptable);
    }

    [Fact]
    public async Task BadLikelihoodRowsNameRowAndColumn()
    {
        await using var service = await ServiceHarness.StartAsync(o => o.MaxLikelihoodRowsPerRequest = 3);
        async Task<HttpResponseMessage> Post(string body) => await service.Client.PostAsync("/v1/models/penguins/likelihood", Json(body));

        Assert.Contains("Row 1, column 'f3' is missing", await FieldError(await Post("""{"rows": [[40, 17, 200, 4000], [40, 17, null, 4000]]}"""), "rows[1][2]"));
        Assert.Contains("not a number", await FieldError(await Post("""{"rows": [[40, "NaN", 200, 4000]]}"""), "rows[0][1]"));
        Assert.Contains("not a finite", await FieldError(await Post("""{"rows": [[40, 1e400, 200, 4000]]}"""), "rows[0][1]"));
        Assert.Contains("has 3 values", await FieldError(await Post("""{"rows": [[40, 17, 200]]}"""), "rows[0]"));
        Assert.Contains("limit of 3", await FieldError(await Post("""{"rows": [[1,2,3,4],[1,2,3,4],[1,2,3,4],[1,2,3,4]]}"""), "rows"));
        Assert.Contains("'rows' is required", await FieldError(await Post("{}"), "rows"));
        Assert.Contains("not valid JSON", await FieldError(await Post("""{"rows": [[1,2"""), "body"));
        Assert.Contains("Unknown field", await FieldError(await Post("""{"rows": [[1,2,3,4]], "x": 1}"""), "x"));
    }

    [Fact]
    public async Task OversizedBodyIs413()
    {
        await using var service = await ServiceHarness.StartAsync(o => o.MaxRequestBodyBytes = 100);
        string big = $$"""{"count": 5, "plan": "{{new string('m', 200)}}"}""";
        var problem = await Problem(await service.Client.PostAsync("/v1/models/penguins/samples", Json(big)), HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("100 bytes", problem.GetProperty("detail").GetString());
        await Problem(await service.Client.PostAsync("/v1/models/penguins/likelihood", Json(big)), HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task SlowRequestTimesOutWith504()
    {
        await using var service = await ServiceHarness.StartAsync(o => o.RequestTimeout = TimeSpan.FromMilliseconds(300));
        service.Hooks.BeforeWork = (_, ct) => Task.Delay(Timeout.Infinite, ct);
        var problem = await Problem(await service.Client.PostAsync("/v1/models/penguins/samples", Json("""{"count": 5}""")), HttpStatusCode.GatewayTimeout);
        Assert.Contains("RequestTimeout", problem.GetProperty("detail").GetString());
        Assert.Contains("mldiffusion_requests_refused_total{reason=\"timeout\"} 1", await service.Client.GetStringAsync("/metrics"));
    }

    [Fact]
    public async Task FullQueueIs429AndQueuedRequestsStillComplete()
    {
        await using var service = await ServiceHarness.StartAsync(o => { o.MaxConcurrentRequests = 1; o.QueueLimit = 1; });
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        service.Hooks.BeforeWork = async (_, _) =>
        {
            entered.TrySetResult();
            await gate.Task;
        };
        var first = service.Client.PostAsync("/v1/models/penguins/samples", Json("""{"count": 5}"""));
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var second = service.Client.PostAsync("/v1/models/penguins/samples", Json("""{"count": 5}"""));
        await Task.Delay(300);   // let the second request reach the queue
        var third = await service.Client.PostAsync("/v1/models/penguins/samples", Json("""{"count": 5}"""));
        var problem = await Problem(third, HttpStatusCode.TooManyRequests);
        Assert.Contains("queue is full", problem.GetProperty("detail").GetString());
        Assert.True(third.Headers.Contains("Retry-After"));
        gate.SetResult();
        Assert.Equal(HttpStatusCode.OK, (await first).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await second).StatusCode);
    }
}
