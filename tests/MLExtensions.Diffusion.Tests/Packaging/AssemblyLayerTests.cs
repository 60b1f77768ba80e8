using System.Reflection;
using MLExtensions.Diffusion.MLNet;
using MLExtensions.Diffusion.Models;

namespace MLExtensions.Diffusion.Tests.Packaging;

/// <summary>
/// The layering of issue 12: the core assembly (math, engine, model files, ONNX graphs and sessions) does not need ML.NET,
/// and references only ONNX Runtime's managed API, so an app that only samples or scores can ship without ML.NET and
/// choose its own native ONNX Runtime package.
/// </summary>
public class AssemblyLayerTests
{
    private static readonly Assembly Core = typeof(DiffusionModelParameters).Assembly;
    private static readonly Assembly MLNetLayer = typeof(DiffusionModel).Assembly;

    [Fact]
    public void TheCoreAssemblyReferencesNoMLNetAssembly()
    {
        var references = Core.GetReferencedAssemblies().Select(a => a.Name!).ToArray();
        Assert.Contains("Microsoft.ML.OnnxRuntime", references);
        Assert.DoesNotContain(references, name => name.StartsWith("Microsoft.ML", StringComparison.Ordinal) && name != "Microsoft.ML.OnnxRuntime");
        Assert.Equal("MLExtensions.Diffusion", Core.GetName().Name);
    }

    [Fact]
    public void TheMLNetAssemblyBuildsOnTheCore()
    {
        Assert.Equal("MLExtensions.Diffusion.MLNet", MLNetLayer.GetName().Name);
        var references = MLNetLayer.GetReferencedAssemblies().Select(a => a.Name!).ToArray();
        Assert.Contains("MLExtensions.Diffusion", references);
        Assert.Contains("Microsoft.ML.Core", references);
        Assert.True(typeof(DiffusionModel).IsSubclassOf(typeof(DiffusionModelParameters)));
    }

    [Fact]
    public void NoCoreTypeLivesInTheMLNetNamespace()
    {
        Assert.DoesNotContain(Core.GetExportedTypes(), t => t.Namespace == "MLExtensions.Diffusion.MLNet");
        Assert.All(MLNetLayer.GetExportedTypes(), t => Assert.StartsWith("MLExtensions.Diffusion.", t.Namespace));
    }

    [Fact]
    public void ACoreLoadedModelGeneratesTheSameRowsAsTheMLNetModel()
    {
        string path = Path.Combine(Tests.MLNet.PenguinsTestData.Folder, "model.zip");
        var core = DiffusionModelParameters.Load(path);
        var transformer = DiffusionModel.Load(path);
        Assert.IsNotType<DiffusionModel>(core);
        Assert.Equal(transformer.Generate(16, seed: 3), core.Generate(16, seed: 3));
        var plan = core.DefaultSamplingPlan(5);
        Assert.Equal(transformer.WithSamplingPlan(plan).Generate(8, 1), core.WithSamplingPlan(plan).Generate(8, 1));
        Assert.IsType<DiffusionModel>(transformer.WithSamplingPlan(plan));
    }
}
