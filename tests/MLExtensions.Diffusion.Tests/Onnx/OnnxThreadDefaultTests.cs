using MLExtensions.Diffusion.Onnx;

namespace MLExtensions.Diffusion.Tests.Onnx;

/// <summary>The default ONNX Runtime sessions use every logical processor (issue 10, item 12).</summary>
public class OnnxThreadDefaultTests
{
    [Fact]
    public void DefaultSettings_RunOneIntraOpThreadPerLogicalProcessor()
    {
        Assert.Equal(0, OnnxSessionSettings.Default.IntraOpThreads);
        Assert.Equal(Environment.ProcessorCount, OnnxSessionSettings.Default.EffectiveIntraOpThreads);
        using var options = OnnxSessionFactory.CreateSessionOptions(new OnnxSessionSettings { ExecutionProvider = OnnxExecutionProvider.Cpu }, out _);
        Assert.Equal(Environment.ProcessorCount, options.IntraOpNumThreads);
    }

    [Fact]
    public void AnExplicitThreadCount_IsKept()
    {
        var settings = new OnnxSessionSettings { ExecutionProvider = OnnxExecutionProvider.Cpu, IntraOpThreads = 3 };
        Assert.Equal(3, settings.EffectiveIntraOpThreads);
        using var options = OnnxSessionFactory.CreateSessionOptions(settings, out _);
        Assert.Equal(3, options.IntraOpNumThreads);
    }
}
