using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;

namespace MLExtensions.Diffusion.Service.Tests;

/// <summary>Every endpoint's answer checked against the library's own computation on the same model file.</summary>
public sealed class EndpointTests
{
    internal static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    internal static float[] Rows(JsonElement body) =>
        body.GetProperty("rows").EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetSingle())).ToArray();

    [Fact]
    public async Task ModelsListsEachModelWithDimensionColumnsPlanAndCard()
    {
        await using var service = await ServiceHarness.StartAsync();
        var penguins = await service.ModelAsync("penguins");
        var library = ServiceHarness.Library("penguins");
        Assert.Equal(library.Dimension, penguins.GetProperty("dimension").GetInt32());
        Assert.Equal(["f1", "f2", "f3", "f4"], penguins.GetProperty("columns").EnumerateArray().Select(c => c.GetString()!).ToArray());
        var plan = penguins.GetProperty("plan");
        Assert.Equal(library.SamplingPlan.Nfe, plan.GetProperty("nfe").GetInt32());
        Assert.Equal(library.SamplingPlan.Steps, plan.GetProperty("steps").GetInt32());
        Assert.Equal(library.SamplingPlan.ToString(), plan.GetProperty("description").GetString());
        Assert.Contains("| dimension | 4 |", penguins.GetProperty("card").GetString());
        Assert.Equal("csharp", penguins.GetProperty("engine").GetString());
        var mixture = await service.ModelAsync("mixture");
        Assert.Equal(ServiceHarness.Library("mixture").Dimension, mixture.GetProperty("dimension").GetInt32());
    }

    [Fact]
    public async Task SamplesAreExactlyTheLibrarysRowsForTheSameSeed()
    {
        await using var service = await ServiceHarness.StartAsync();
        var response = await service.Client.PostAsync("/v1/models/penguins/samples", Json("""{"count": 50, "seed": 7}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(ServiceHarness.Library("penguins").Generate(50, 7), Rows(body));
        Assert.Equal(50, body.GetProperty("count").GetInt32());
        Assert.Equal(39, body.GetProperty("plan").GetProperty("nfe").GetInt32());
    }

    [Fact]
    public async Task SamplesAcrossSeveralStreamedChunksAreStillTheLibrarysRows()
    {
        await using var service = await ServiceHarness.StartAsync();
        // 5000 rows: two chunks of the stream (4096 + 904), NFE 5 to keep it quick.
        var response = await service.Client.PostAsync("/v1/models/mixture/samples", Json("""{"count": 5000, "seed": 3, "nfe": 5}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var rows = Rows(await response.Content.ReadFromJsonAsync<JsonElement>());
        Assert.Equal(ServiceHarness.Library("mixture").Generate(5000, 3, steps: 3), rows);
    }

    [Fact]
    public async Task NfeAndDefaultPlanFollowTheLibrarysPlans()
    {
        await using var service = await ServiceHarness.StartAsync();
        var library = ServiceHarness.Library("penguins");
        var nfe = await service.Client.PostAsync("/v1/models/penguins/samples", Json("""{"count": 20, "seed": 2, "nfe": 9}"""));
        var body = await nfe.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(library.Generate(20, 2, steps: 5), Rows(body));
        Assert.Equal(9, body.GetProperty("plan").GetProperty("nfe").GetInt32());

        var fallback = await service.Client.PostAsync("/v1/models/penguins/samples", Json("""{"count": 20, "seed": 2, "plan": "default", "nfe": 7}"""));
        var expected = library.WithSamplingPlan(library.DefaultSamplingPlan(library.Options.SamplingSteps)).Generate(20, 2, steps: 4);
        Assert.Equal(expected, Rows(await fallback.Content.ReadFromJsonAsync<JsonElement>()));
    }

    [Fact]
    public async Task CsvAndJsonAgreeAndAcceptOrFormatChoose()
    {
        await using var service = await ServiceHarness.StartAsync();
        var json = Rows(await (await service.Client.PostAsync("/v1/models/penguins/samples", Json("""{"count": 30, "seed": 11}""")))
            .Content.ReadFromJsonAsync<JsonElement>());

        var byAccept = new HttpRequestMessage(HttpMethod.Post, "/v1/models/penguins/samples") { Content = Json("""{"count": 30, "seed": 11}""") };
        byAccept.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/csv"));
        var csvResponse = await service.Client.SendAsync(byAccept);
        Assert.Equal("text/csv", csvResponse.Content.Headers.ContentType!.MediaType);
        var csv = await csvResponse.Content.ReadAsStringAsync();
        var byField = await (await service.Client.PostAsync("/v1/models/penguins/samples", Json("""{"count": 30, "seed": 11, "format": "csv"}"""))).Content.ReadAsStringAsync();
        Assert.Equal(csv, byField);

        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("f1,f2,f3,f4", lines[0]);
        Assert.Equal(31, lines.Length);
        var parsed = lines.Skip(1).SelectMany(l => l.Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture))).ToArray();
        Assert.Equal(json, parsed);
    }

    [Fact]
    public async Task LikelihoodIsTheLibrarysNll()
    {
        await using var service = await ServiceHarness.StartAsync();
        var library = ServiceHarness.Library("penguins");
        float[] rows = library.Generate(5, 1);
        var body = JsonSerializer.Serialize(new { rows = Enumerable.Range(0, 5).Select(r => rows.Skip(r * 4).Take(4).ToArray()) });
        var response = await service.Client.PostAsync("/v1/models/penguins/likelihood", Json(body));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = await response.Content.ReadFromJsonAsync<JsonElement>();
        var nll = result.GetProperty("nll").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        using var scorer = new LikelihoodTransformer(library, new LikelihoodTransformOptions { Steps = 64 });
        Assert.Equal(scorer.Score(rows), nll);
        Assert.Equal(nll.Average(), result.GetProperty("meanNll").GetDouble(), 12);
    }

    [Fact]
    public async Task OnnxEngineMatchesTheLibraryUpToFloatRounding()
    {
        await using var service = await ServiceHarness.StartAsync(o => o.Engine = SamplingEngine.Onnx);
        var response = await service.Client.PostAsync("/v1/models/penguins/samples", Json("""{"count": 64, "seed": 5}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var rows = Rows(await response.Content.ReadFromJsonAsync<JsonElement>());
        var expected = ServiceHarness.Library("penguins").Generate(64, 5);
        var scale = ServiceHarness.Library("penguins").FeatureScaler.Scale.ToArray();
        Assert.Equal(expected.Length, rows.Length);
        for (int i = 0; i < rows.Length; i++) Assert.True(Math.Abs(rows[i] - expected[i]) <= 1e-4 * scale[i % 4], $"value {i}: {rows[i]} vs {expected[i]}");
        Assert.StartsWith("onnx (", (await service.ModelAsync("penguins")).GetProperty("engine").GetString());

        // The likelihood on the ONNX Jacobian-vector-product graph: the library's NLL up to float32 rounding of the network.
        var body = JsonSerializer.Serialize(new { rows = Enumerable.Range(0, 3).Select(r => expected.Skip(r * 4).Take(4).ToArray()) });
        var scored = await service.Client.PostAsync("/v1/models/penguins/likelihood", Json(body));
        Assert.Equal(HttpStatusCode.OK, scored.StatusCode);
        var nll = (await scored.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("nll").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        using var scorer = new LikelihoodTransformer(ServiceHarness.Library("penguins"));
        var reference = scorer.Score(expected.AsSpan(0, 12));
        for (int i = 0; i < 3; i++) Assert.True(Math.Abs(nll[i] - reference[i]) < 1e-2, $"row {i}: {nll[i]} vs {reference[i]}");
    }

    [Fact]
    public async Task HealthMetricsAndOpenApiAreServed()
    {
        await using var service = await ServiceHarness.StartAsync();
        var health = await service.Client.GetFromJsonAsync<JsonElement>("/healthz");
        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.Equal(2, health.GetProperty("models").GetInt32());

        Assert.Equal(HttpStatusCode.OK, (await service.Client.PostAsync("/v1/models/mixture/samples", Json("""{"count": 25}"""))).StatusCode);
        var metrics = await service.Client.GetStringAsync("/metrics");
        Assert.Contains("mldiffusion_rows_generated_total{model=\"mixture\"} 25", metrics);
        Assert.Contains("http_requests_received_total", metrics);
        Assert.Contains("http_request_duration_seconds_bucket", metrics);
        Assert.Contains("mldiffusion_models_served 2", metrics);

        var openApi = await service.Client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var paths = openApi.GetProperty("paths");
        foreach (var path in new[] { "/v1/models", "/v1/models/{name}/samples", "/v1/models/{name}/likelihood", "/healthz" })
            Assert.True(paths.TryGetProperty(path, out _), $"OpenAPI document lacks {path}");
    }
}
