using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Features;
using MLExtensions.Diffusion.Models;
using MLExtensions.Diffusion.Plans;
using MLExtensions.Diffusion.Onnx;
using MLExtensions.Diffusion.Randomness;
using MLExtensions.Diffusion.Samplers;

namespace MLExtensions.Diffusion.Tests.MLNet;

/// <summary>
/// Both save routes, loaded in a fresh process, generate the same samples for the same noise: (a) our model zip through
/// samples/GenerateFromModel, (b) a sampler ONNX graph inside a plain ML.NET pipeline (ApplyOnnxModel, Model.Save/Load)
/// through samples/PortableOnnxSampler, which references no MLExtensions.Diffusion code.
/// </summary>
public class FreshProcessRoundTripTests(DiffusionModelFixture fixture) : IClassFixture<DiffusionModelFixture>
{
    private const int Rows = 6;

    private float[] Noise()
    {
        var noise = new float[Rows * fixture.Model.Dimension];
        var draws = StandardNormal.Sample(new Random(21), noise.Length);
        for (int i = 0; i < noise.Length; i++) noise[i] = (float)draws[i];
        return noise;
    }

    [Fact]
    public void ModelZipGeneratesIdenticalBitsInFreshProcesses()
    {
        string folder = Directory.CreateTempSubdirectory("mlx-fresh-zip-").FullName;
        try
        {
            string modelPath = Path.Combine(folder, "model.zip"), noisePath = Path.Combine(folder, "noise.csv");
            fixture.Model.Save(modelPath);
            float[] noise = Noise();
            WriteCsv(noisePath, noise, fixture.Model.Dimension);
            float[] expected = fixture.Model.GenerateFromNoise(noise);

            for (int run = 0; run < 2; run++)
            {
                string output = Path.Combine(folder, $"out{run}.csv");
                RunSample("GenerateFromModel", modelPath, "--noise", noisePath, output);
                Assert.Equal(expected, ReadCsv(output));
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void SamplerGraphInAPlainMLNetPipelineMatchesTheEngineInFreshProcesses()
    {
        string folder = Directory.CreateTempSubdirectory("mlx-fresh-onnx-").FullName;
        try
        {
            var model = fixture.Model;
            int d = model.Dimension;
            OnnxModel graph = model.ExportSamplerOnnx(new HeunSampler(), steps: 8).Model;
            string onnxPath = Path.Combine(folder, "sampler.onnx"), pipelinePath = Path.Combine(folder, "pipeline.zip");
            string noisePath = Path.Combine(folder, "noise.csv");
            graph.Save(onnxPath);
            float[] noise = Noise();
            WriteCsv(noisePath, noise, d);

            // Process 1 builds and saves the ML.NET pipeline; processes 2 and 3 load it and generate.
            RunSample("PortableOnnxSampler", "save", onnxPath, pipelinePath);
            var outputs = new List<float[]>();
            for (int run = 0; run < 2; run++)
            {
                string output = Path.Combine(folder, $"out{run}.csv");
                RunSample("PortableOnnxSampler", "run", pipelinePath, noisePath, output);
                outputs.Add(ReadCsv(output));
            }
            Assert.Equal(outputs[0], outputs[1]);

            // The same graph run directly through ONNX Runtime in this process, on the whole batch.
            using var session = OnnxSessionFactory.Create(graph, new OnnxSessionSettings { ExecutionProvider = OnnxExecutionProvider.Cpu });
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("noise", new DenseTensor<float>(noise, [Rows, d]))]);
            float[] direct = results.First().AsEnumerable<float>().ToArray();
            Assert.Equal(direct.Length, outputs[0].Length);
            for (int i = 0; i < direct.Length; i++) Assert.Equal(direct[i], outputs[0][i], 1e-5f);

            // And the C# engine on the same noise (data units: compare relative to each feature's scale).
            float[] engine = model.GenerateFromNoise(noise, new HeunSampler(), steps: 8);
            ReadOnlySpan<double> scale = model.FeatureScaler.Scale;
            for (int i = 0; i < engine.Length; i++) Assert.Equal(engine[i], outputs[0][i], 1e-4 * scale[i % d]);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void PortableSamplerRejectsAFileThatIsNotASamplerGraph()
    {
        string folder = Directory.CreateTempSubdirectory("mlx-fresh-bad-").FullName;
        try
        {
            string bogus = Path.Combine(folder, "bogus.onnx");
            File.WriteAllBytes(bogus, [1, 2, 3, 4, 5]);
            var (code, error) = RunSampleRaw("PortableOnnxSampler", "save", bogus, Path.Combine(folder, "p.zip"));
            Assert.Equal(1, code);
            Assert.Contains("bogus.onnx", error);
            Assert.False(File.Exists(Path.Combine(folder, "p.zip")));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static void RunSample(string sample, params string[] arguments)
    {
        var (code, error) = RunSampleRaw(sample, arguments);
        Assert.True(code == 0, $"{sample} {string.Join(' ', arguments)} exited with {code}: {error}");
    }

    internal static (int Code, string Error) RunSampleRaw(string sample, params string[] arguments)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(SampleAssembly(sample));
        foreach (string a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync(), stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{sample} did not finish in 120 s.");
        }
        return (process.ExitCode, stderr.Result + stdout.Result);
    }

    /// <summary>The sample's built assembly, in the same configuration as this test assembly.</summary>
    private static string SampleAssembly(string sample)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        string configuration = directory.Parent!.Name; // .../bin/<Configuration>/net10.0/
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "MLExtensions.sln"))) directory = directory.Parent;
        Assert.NotNull(directory);
        string path = Path.Combine(directory!.FullName, "samples", sample, "bin", configuration, "net10.0", sample + ".dll");
        Assert.True(File.Exists(path), $"The sample {sample} is not built at {path}.");
        return path;
    }

    private static void WriteCsv(string path, float[] values, int d) =>
        File.WriteAllLines(path, Enumerable.Range(0, values.Length / d)
            .Select(r => string.Join(",", values.AsSpan(r * d, d).ToArray().Select(f => f.ToString("R", CultureInfo.InvariantCulture)))));

    private static float[] ReadCsv(string path) =>
        File.ReadLines(path).Where(l => l.Length > 0)
            .SelectMany(l => l.Split(',').Select(c => float.Parse(c, NumberStyles.Float, CultureInfo.InvariantCulture))).ToArray();
}
