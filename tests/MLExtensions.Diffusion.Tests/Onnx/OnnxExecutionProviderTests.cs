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

    /// <summary>The GPU native package (built with -p:OnnxRuntimeFlavor=Gpu) on a machine without the CUDA libraries, as in CI.</summary>
    private static bool GpuBuildWithoutCuda =>
        OnnxSessionFactory.AvailableProviders.Contains("CUDAExecutionProvider") && CudaLibraryProbe.MissingLibrary() is not null;

    [Fact]
    public void TheBuildFlavourLoadsItsNativeLibrary()
    {
#if ONNXRUNTIME_GPU
        Assert.Contains("CUDAExecutionProvider", OnnxSessionFactory.AvailableProviders);
        Assert.Contains("TensorrtExecutionProvider", OnnxSessionFactory.AvailableProviders);
#else
        Assert.DoesNotContain("CUDAExecutionProvider", OnnxSessionFactory.AvailableProviders);
#endif
    }

    [Fact]
    public void GpuBuildWithoutCudaFallsBackUnderAutoWithOneWarningNamingTheMissingLibrary()
    {
        if (!GpuBuildWithoutCuda) return;
        string missing = CudaLibraryProbe.MissingLibrary()!;
        Assert.Matches(@"^lib\w+\.so\.\d+$", missing);
        var warnings = new List<string>();
        var settings = new OnnxSessionSettings { ExecutionProvider = OnnxExecutionProvider.Auto, Warning = warnings.Add };
        using var session = OnnxSessionFactory.Create(TinyModel(), settings);
        var warning = Assert.Single(warnings);
        Assert.Contains(missing, warning);
        Assert.Contains("running on the CPU", warning);
        Assert.Contains("CUDA 13", warning);

        // The session really runs (on the CPU): y = x + 1.
        using var input = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(new float[] { 1f, 2f }, new long[] { 1, 2 });
        using var outputs = session.Run(new Microsoft.ML.OnnxRuntime.RunOptions(), ["x"], [input], ["y"]);
        Assert.Equal(new float[] { 2f, 3f }, outputs[0].GetTensorDataAsSpan<float>().ToArray());
    }

    [Theory]
    [InlineData(OnnxExecutionProvider.Cuda, "Cuda")]
    [InlineData(OnnxExecutionProvider.TensorRt, "TensorRt")]
    public void GpuBuildWithoutCudaFailsExplicitGpuProvidersSayingWhatToInstall(OnnxExecutionProvider provider, string name)
    {
        if (!GpuBuildWithoutCuda) return;
        var settings = new OnnxSessionSettings { ExecutionProvider = provider };
        var e = Assert.Throws<InvalidOperationException>(() => OnnxSessionFactory.Create(TinyModel(), settings));
        Assert.Contains($"OnnxExecutionProvider.{name}", e.Message);
        Assert.Contains(CudaLibraryProbe.MissingLibrary()!, e.Message);
        Assert.Contains("CUDA 13", e.Message);
        Assert.Contains("cuDNN 9", e.Message);
        Assert.Contains("Install", e.Message);
    }

    [Fact]
    public void InvalidSettingsAreRejected()
    {
        Assert.Equal("DeviceId", Assert.Throws<ArgumentOutOfRangeException>(() => new OnnxSessionSettings { DeviceId = -1 }).ParamName);
        Assert.Equal("ExecutionProvider",
            Assert.Throws<ArgumentOutOfRangeException>(() => new OnnxSessionSettings { ExecutionProvider = (OnnxExecutionProvider)42 }).ParamName);
    }
}
