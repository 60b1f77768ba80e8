using MLExtensions.Diffusion.Onnx;

namespace MLExtensions.Diffusion.Tests.Onnx;

/// <summary>
/// Provider selection on a machine whose native library has no GPU provider (this project's CI and dev machines): the
/// tests skip their CPU-only assertions when a GPU build is loaded.
/// </summary>
public class OnnxExecutionProviderTests
{
    private static bool CpuOnlyBuild => !OnnxSessionFactory.AvailableProviders.Contains("CUDAExecutionProvider");

    private static OnnxModel TinyModel()
    {
        var builder = new OnnxGraphBuilder("tiny");
        string x = builder.AddInput("x", OnnxElementType.Float, "N", 2);
        builder.AddOutput(builder.Add(x, builder.Constant(1f)), "y", OnnxElementType.Float, "N", 2);
        return builder.Build();
    }

    [Fact]
    public void CpuProviderIsAlwaysAvailable()
    {
        Assert.Contains("CPUExecutionProvider", OnnxSessionFactory.AvailableProviders);
        Assert.Equal(OnnxExecutionProvider.Cpu, OnnxSessionFactory.ResolveProvider(new OnnxSessionSettings { ExecutionProvider = OnnxExecutionProvider.Cpu }));
    }

    [Fact]
    public void AutoFallsBackToCpuWithAWarningWhenCudaIsAbsent()
    {
        if (!CpuOnlyBuild) return;
        var warnings = new List<string>();
        var settings = new OnnxSessionSettings { ExecutionProvider = OnnxExecutionProvider.Auto, Warning = warnings.Add };
        Assert.Equal(OnnxExecutionProvider.Cpu, OnnxSessionFactory.ResolveProvider(settings));
        Assert.Single(warnings);
        Assert.Contains("CUDA", warnings[0]);
        Assert.Contains("CPU", warnings[0]);

        // A session created under Auto runs, on the CPU.
        warnings.Clear();
        using var session = OnnxSessionFactory.Create(TinyModel(), settings);
        Assert.Single(warnings);
        Assert.Equal("y", session.OutputMetadata.Keys.Single());
    }

    [Theory]
    [InlineData(OnnxExecutionProvider.Cuda, "Cuda")]
    [InlineData(OnnxExecutionProvider.TensorRt, "TensorRt")]
    public void ExplicitGpuProviderThatIsAbsentFailsClearly(OnnxExecutionProvider provider, string name)
    {
        if (!CpuOnlyBuild) return;
        var settings = new OnnxSessionSettings { ExecutionProvider = provider, DeviceId = 0 };
        var e = Assert.Throws<InvalidOperationException>(() => OnnxSessionFactory.Create(TinyModel(), settings));
        Assert.Contains(name, e.Message);
        Assert.Contains("OnnxRuntimeFlavor=Gpu", e.Message);
        Assert.Contains("CPUExecutionProvider", e.Message);
    }

    [Fact]
    public void InvalidSettingsAreRejected()
    {
        Assert.Equal("DeviceId", Assert.Throws<ArgumentOutOfRangeException>(() => new OnnxSessionSettings { DeviceId = -1 }).ParamName);
        Assert.Equal("ExecutionProvider",
            Assert.Throws<ArgumentOutOfRangeException>(() => new OnnxSessionSettings { ExecutionProvider = (OnnxExecutionProvider)42 }).ParamName);
    }
}
