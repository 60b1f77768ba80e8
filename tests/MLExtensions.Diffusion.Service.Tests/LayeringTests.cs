namespace MLExtensions.Diffusion.Service.Tests;

/// <summary>The service is a production app that only samples and scores: it runs on the core assembly without ML.NET (issue 12).</summary>
public class LayeringTests
{
    [Fact]
    public void TheServiceReferencesTheCoreAndNoMLNetAssembly()
    {
        var references = typeof(SamplerServiceOptions).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToArray();
        Assert.Contains("MLExtensions.Diffusion", references);
        Assert.DoesNotContain("MLExtensions.Diffusion.MLNet", references);
        Assert.DoesNotContain(references, name => name.StartsWith("Microsoft.ML", StringComparison.Ordinal) && name != "Microsoft.ML.OnnxRuntime");
    }
}
