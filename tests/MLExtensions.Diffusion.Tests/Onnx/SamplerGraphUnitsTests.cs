using System.Xml.Linq;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.Onnx;
using MLExtensions.Diffusion.Tests.MLNet;

namespace MLExtensions.Diffusion.Tests.Onnx;

/// <summary>
/// Units of the two sampler-graph routes (issue 10, item 7) on the shipped penguins model (per-feature scaling, features
/// on scales from 1 to 800): <see cref="DiffusionModel.ExportSamplerOnnx(Samplers.ISampler?, int?)"/> returns
/// <see cref="DiffusionModel.GenerateFromNoise"/>'s rows in data units; <see cref="SamplerGraphCompiler.Compile"/> on
/// <c>model.Denoiser</c> starts from x = sigma(times[0]) noise and returns the denoiser's (standardised) units, as its
/// documentation now says, so those rows become the data-unit rows only after the model's start law and
/// de-standardisation are applied by hand.
/// </summary>
public class SamplerGraphUnitsTests
{
    private const int Rows = 16;

    private static float[] Latents() => OrtTestRunner.Normal(new Random(5), Rows * PenguinsTestData.Dimension);

    private static float[] Run(SamplerGraph graph, float[] noise) =>
        OrtTestRunner.Run(graph.Model, SamplerGraphCompiler.OutputSamples, (SamplerGraphCompiler.InputNoise, noise, [Rows, graph.Dimension])).Data;

    [Fact]
    public void ExportSamplerOnnxReturnsGenerateFromNoiseInDataUnits()
    {
        var model = PenguinsTestData.Model;
        int d = model.Dimension;
        float[] noise = Latents();
        float[] expected = model.GenerateFromNoise(noise);
        float[] samples = Run(model.ExportSamplerOnnx(), noise);
        for (int i = 0; i < samples.Length; i++)
            Assert.Equal(expected[i], samples[i], 1e-4 * model.FeatureScaler.Scale[i % d]);
    }

    [Fact]
    public void CompileOnTheModelsDenoiserReturnsStandardisedUnitsFromTheSigmaStart()
    {
        var model = PenguinsTestData.Model;
        int d = model.Dimension;
        var plan = model.SamplingPlan;
        float[] noise = Latents();
        float[] expected = model.GenerateFromNoise(noise);
        var graph = SamplerGraphCompiler.Compile(model.Denoiser, plan.Schedule, plan.Times, plan.CreateSampler());

        // Raw output on the same latents: neither data units nor the model's rows.
        float[] raw = Run(graph, noise);
        double largest = 0;
        for (int i = 0; i < raw.Length; i++) largest = Math.Max(largest, Math.Abs(raw[i]));
        Assert.True(largest < 10, $"standardised rows are O(1); got {largest}");
        Assert.Contains(Enumerable.Range(0, raw.Length), i => Math.Abs(raw[i] - expected[i]) > 10);

        // The documented conversion: feed the model's start x0 = shift + spread eps as noise' = x0 / sigma(times[0]), then
        // y = FeatureScaler.Mean + FeatureScaler.Scale z.
        var (shift, spread) = model.StartLaw();
        double sigma0 = plan.Schedule.Sigma(plan.Times[0]);
        var start = new float[noise.Length];
        for (int i = 0; i < noise.Length; i++) start[i] = (float)((shift[i % d] + spread * noise[i]) / sigma0);
        float[] z = Run(graph, start);
        for (int i = 0; i < z.Length; i++)
        {
            double y = model.FeatureScaler.Mean[i % d] + model.FeatureScaler.Scale[i % d] * z[i];
            Assert.Equal(expected[i], y, 1e-4 * model.FeatureScaler.Scale[i % d]);
        }
    }

    [Fact]
    public void TheDocsStateTheUnitsAndTheGuideShowsTheDataUnitRoute()
    {
        string xml = Path.Combine(AppContext.BaseDirectory, "MLExtensions.Diffusion.xml");
        var docs = XDocument.Load(xml).Descendants("member").ToDictionary(m => (string)m.Attribute("name")!, m => m.ToString());
        string type = docs["T:MLExtensions.Diffusion.Onnx.SamplerGraphCompiler"];
        Assert.DoesNotContain("the rows at times[^1], in data units.", type);
        Assert.Contains("standardised units", type);
        Assert.Contains("ExportSamplerOnnx", type);
        string compile = docs.Single(p => p.Key.StartsWith("M:MLExtensions.Diffusion.Onnx.SamplerGraphCompiler.Compile(", StringComparison.Ordinal) && p.Key.EndsWith("ISampler)", StringComparison.Ordinal)).Value;
        Assert.Contains("standardised units", compile);
        Assert.Contains("ExportSamplerOnnx", compile);

        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(root.FullName, "MLExtensions.sln"))) root = root.Parent!;
        string guide = File.ReadAllText(Path.Combine(root.FullName, "docs", "guide.md"));
        Assert.Contains(".ExportSamplerOnnx(", guide);
    }
}
